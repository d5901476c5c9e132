//! Table and column names of the SQL schema.
//!
//! Every table name starts with `editgroups_`, so the schema can live in a host
//! application's database. Ids, counters, revisions, lengths and times are 64-bit
//! integers; times are microseconds since the Unix epoch, UTC.

use sea_orm::DeriveIden;

/// Key/value facts about the schema itself (its version) and the writers' lock row.
#[derive(Debug, Clone, Copy, DeriveIden)]
pub(crate) enum Meta {
    #[sea_orm(iden = "editgroups_meta")]
    Table,
    Name,
    Value,
}

/// Tools, by short id.
#[derive(Debug, Clone, Copy, DeriveIden)]
pub(crate) enum Tools {
    #[sea_orm(iden = "editgroups_tools")]
    Table,
    Id,
    Shortid,
}

/// Batches and their counters.
#[derive(Debug, Clone, Copy, DeriveIden)]
pub(crate) enum Batches {
    #[sea_orm(iden = "editgroups_batches")]
    Table,
    Id,
    Wiki,
    ToolId,
    Uid,
    User,
    Summary,
    NbEdits,
    NbDistinctPages,
    NbNewPages,
    NbRevertedEdits,
    TotalDiffsize,
    StartedUs,
    EndedUs,
    /// Whether the batch was archived (migration m0004).
    Archived,
}

/// Attributed edits.
#[derive(Debug, Clone, Copy, DeriveIden)]
pub(crate) enum Edits {
    #[sea_orm(iden = "editgroups_edits")]
    Table,
    Id,
    Wiki,
    Rcid,
    BatchId,
    ChangeType,
    LogType,
    LogAction,
    Namespace,
    Title,
    OldRevision,
    NewRevision,
    OldLength,
    NewLength,
    TimestampUs,
    User,
    Bot,
    Minor,
    Patrolled,
    Comment,
    Parsedcomment,
    Uri,
    Reverted,
}

/// Events seen but not stored as edits (unattributed revert signals, hijacked
/// edits): remembered so that a re-delivery is recognised.
#[derive(Debug, Clone, Copy, DeriveIden)]
pub(crate) enum OtherEvents {
    #[sea_orm(iden = "editgroups_other_events")]
    Table,
    Wiki,
    Rcid,
}

/// The tags of each batch.
#[derive(Debug, Clone, Copy, DeriveIden)]
pub(crate) enum BatchTags {
    #[sea_orm(iden = "editgroups_batch_tags")]
    Table,
    BatchId,
    Tag,
}

/// The distinct pages of each batch, so that `nb_distinct_pages` needs no scan.
#[derive(Debug, Clone, Copy, DeriveIden)]
pub(crate) enum BatchPages {
    #[sea_orm(iden = "editgroups_batch_pages")]
    Table,
    BatchId,
    Title,
}

/// Revisions some undo named, whether or not their edit is stored yet.
#[derive(Debug, Clone, Copy, DeriveIden)]
pub(crate) enum Undone {
    #[sea_orm(iden = "editgroups_undone_revisions")]
    Table,
    Wiki,
    Revision,
}

/// The latest deletion and restore of each page, as (time, rc id) positions.
#[derive(Debug, Clone, Copy, DeriveIden)]
pub(crate) enum PageEvents {
    #[sea_orm(iden = "editgroups_page_events")]
    Table,
    Wiki,
    Title,
    DeleteUs,
    DeleteRcid,
    RestoreUs,
    RestoreRcid,
}

/// Source positions, stored with the data read up to them.
#[derive(Debug, Clone, Copy, DeriveIden)]
pub(crate) enum Cursors {
    #[sea_orm(iden = "editgroups_cursors")]
    Table,
    SourceKey,
    Source,
    Cursor,
    LatestEventUs,
}

/// Events that revert edits (undos, deletions, restores), kept so that edits
/// arriving after them are found reverted. Rows migrated from schema version 1
/// may lack the event's rc id and time.
#[derive(Debug, Clone, Copy, DeriveIden)]
pub(crate) enum RevertSignals {
    #[sea_orm(iden = "editgroups_revert_signals")]
    Table,
    Id,
    Wiki,
    Rcid,
    /// `undo`, `delete` or `restore`.
    Action,
    /// The undone revision, for undos.
    Revision,
    /// The page, for deletions and restores.
    Title,
    TimestampUs,
    /// The event's batch, when it was an attributed edit.
    BatchId,
}

/// What reverted each reverted edit: the earliest reverting event. Edits
/// reverted before schema version 2 have no row.
#[derive(Debug, Clone, Copy, DeriveIden)]
pub(crate) enum EditReverts {
    #[sea_orm(iden = "editgroups_edit_reverts")]
    Table,
    Wiki,
    Rcid,
    ByRcid,
    ByUs,
    ByBatchId,
}

/// How many edits of a batch each other batch reverted: both directions of
/// "reverted by" without scanning edits.
#[derive(Debug, Clone, Copy, DeriveIden)]
pub(crate) enum RevertLinks {
    #[sea_orm(iden = "editgroups_revert_links")]
    Table,
    BatchId,
    RevertingBatchId,
    Edits,
}

/// The last inspection of each batch (migration m0004).
#[derive(Debug, Clone, Copy, DeriveIden)]
pub(crate) enum Inspections {
    #[sea_orm(iden = "editgroups_inspections")]
    Table,
    BatchId,
    InspectedUs,
    NbEdits,
    ThroughId,
}

/// Each batch's edits and reverted edits per minute of their time (migration
/// m0008): a large batch's timeline without reading its edits. Always the
/// count of the batch's stored edits, minute by minute.
#[derive(Debug, Clone, Copy, DeriveIden)]
pub(crate) enum BatchMinutes {
    #[sea_orm(iden = "editgroups_batch_minutes")]
    Table,
    BatchId,
    /// The edits' time in whole minutes since the Unix epoch (`timestamp_us`
    /// divided by 60,000,000, rounded toward zero as SQL divides).
    Minute,
    Edits,
    Reverted,
}
