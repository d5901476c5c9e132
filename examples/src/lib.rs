//! Shared helpers of the editgroups examples.
