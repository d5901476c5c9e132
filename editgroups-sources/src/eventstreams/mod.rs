//! Wikimedia EventStreams source (in progress).
