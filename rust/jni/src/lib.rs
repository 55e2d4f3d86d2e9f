//! featurestore-jni: `Java_*` exports only. Converts types and errors; all logic lives in featurestore-core.
