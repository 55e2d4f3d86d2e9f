//! featurestore-local: a local Amazon SageMaker Feature Store speaking the real wire protocols.
