/// Every Prometheus metric name syncctl writes, in one place, so the alert rules and the
/// dashboard in Examples/ and the code cannot drift apart.
public enum MetricNames {
    // Per job (label `job`: full-sync, verify-consistency, backup, replay, …): MetricsFile.jobSamples.
    public static let jobLastRun = "syncctl_job_last_run_timestamp_seconds"
    public static let jobLastSuccess = "syncctl_job_last_success_timestamp_seconds"
    public static let jobDuration = "syncctl_job_duration_seconds"
    public static let jobExitCode = "syncctl_job_exit_code"
    public static let jobDocumentsWritten = "syncctl_job_documents_written"

    // verify-consistency (label `collection`): documents missing, extra or different.
    public static let verifyDifferences = "syncctl_verify_differences"

    // The sync queue and the replay worker.
    public static let queueDepth = "syncctl_queue_depth"
    public static let queueOldestAge = "syncctl_queue_oldest_entry_age_seconds"
    /// Label `outcome`: applied, failed, dead_lettered.
    public static let replayEntries = "syncctl_replay_entries_total"
    public static let replaySuccessRatio = "syncctl_replay_success_ratio"
    /// Label `stat`: avg, p95 — seconds from an entry's time to its Atlas write.
    public static let replaySyncSeconds = "syncctl_replay_sync_seconds"
    /// 1 when the last attempt to reach Atlas succeeded, else 0.
    public static let atlasUp = "syncctl_atlas_up"
    public static let atlasLastReachable = "syncctl_atlas_last_reachable_timestamp_seconds"
}
