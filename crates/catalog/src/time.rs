/// The current UTC time as the catalog stores and the views show it: `YYYY-MM-DD HH:MM:SS.ffffff`.
pub fn now_timestamp() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string()
}
