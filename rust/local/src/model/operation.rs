//! Every operation the store answers, with the name the wire protocols use.

/// An operation of the control plane or the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    CreateFeatureGroup,
    DescribeFeatureGroup,
    ListFeatureGroups,
    DeleteFeatureGroup,
    UpdateFeatureGroup,
    PutRecord,
    BatchWriteRecord,
    GetRecord,
    BatchGetRecord,
    DeleteRecord,
    ListRecords,
}

impl Operation {
    pub const ALL: [Operation; 11] = [
        Operation::CreateFeatureGroup,
        Operation::DescribeFeatureGroup,
        Operation::ListFeatureGroups,
        Operation::DeleteFeatureGroup,
        Operation::UpdateFeatureGroup,
        Operation::PutRecord,
        Operation::BatchWriteRecord,
        Operation::GetRecord,
        Operation::BatchGetRecord,
        Operation::DeleteRecord,
        Operation::ListRecords,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Operation::CreateFeatureGroup => "CreateFeatureGroup",
            Operation::DescribeFeatureGroup => "DescribeFeatureGroup",
            Operation::ListFeatureGroups => "ListFeatureGroups",
            Operation::DeleteFeatureGroup => "DeleteFeatureGroup",
            Operation::UpdateFeatureGroup => "UpdateFeatureGroup",
            Operation::PutRecord => "PutRecord",
            Operation::BatchWriteRecord => "BatchWriteRecord",
            Operation::GetRecord => "GetRecord",
            Operation::BatchGetRecord => "BatchGetRecord",
            Operation::DeleteRecord => "DeleteRecord",
            Operation::ListRecords => "ListRecords",
        }
    }

    pub fn from_name(name: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|op| op.name() == name)
    }

    /// Index into per-operation counters.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Runtime (data plane) operations, the ones faults apply to by default.
    pub fn is_runtime(self) -> bool {
        !matches!(
            self,
            Operation::CreateFeatureGroup
                | Operation::DescribeFeatureGroup
                | Operation::ListFeatureGroups
                | Operation::DeleteFeatureGroup
                | Operation::UpdateFeatureGroup
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_indexes_are_dense() {
        for (i, op) in Operation::ALL.into_iter().enumerate() {
            assert_eq!(Operation::from_name(op.name()), Some(op));
            assert_eq!(op.index(), i);
        }
        assert_eq!(Operation::from_name("PutRecords"), None);
    }
}
