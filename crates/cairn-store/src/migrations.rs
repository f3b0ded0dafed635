//! Schema migrations, applied in order and recorded in `PRAGMA user_version`. Each is a SQL file in
//! `migrations/`, numbered.

/// Each entry moves the schema one version up. Never edit a released file: add a new one.
pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_documents.sql"),
    include_str!("../migrations/0002_conversations.sql"),
    include_str!("../migrations/0003_model_calls.sql"),
    include_str!("../migrations/0004_message_provider.sql"),
    include_str!("../migrations/0005_egress_audit.sql"),
    include_str!("../migrations/0006_traces.sql"),
    include_str!("../migrations/0007_feedback.sql"),
    include_str!("../migrations/0008_collection_version.sql"),
    include_str!("../migrations/0009_answer_cache.sql"),
    include_str!("../migrations/0010_review.sql"),
    include_str!("../migrations/0011_quarantine.sql"),
    include_str!("../migrations/0012_watched_folders.sql"),
    include_str!("../migrations/0013_models.sql"),
    include_str!("../migrations/0014_parsing.sql"),
    include_str!("../migrations/0015_tool_sharing.sql"),
    include_str!("../migrations/0016_file_stamp.sql"),
    include_str!("../migrations/0017_shared_collections.sql"),
];
