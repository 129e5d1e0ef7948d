//! The payloads of the server's packets: handshake, OK, EOF, ERR, column definitions and rows.
//!
//! Every packet that ends a command carries the session's exact status flags (autocommit, in
//! transaction): drivers such as PyMySQL and Connector/J decide from them whether to send
//! `SET autocommit=0`, so a wrong flag silently turns a ROLLBACK into a commit.

use mysql_common::constants::{CapabilityFlags, ColumnFlags, ColumnType, StatusFlags};
use mysql_common::io::BufMutExt;
use mysql_common::packets::HandshakePacket;
use mysql_common::proto::MySerialize;

/// `mysql_native_password`: SHA1 challenge-response, for old clients and plain connections.
pub const NATIVE_PASSWORD: &str = "mysql_native_password";

/// `caching_sha2_password`, MySQL 8's default and the plugin the handshake announces.
pub const CACHING_SHA2_PASSWORD: &str = "caching_sha2_password";

/// caching_sha2_password's "more data" packet after a scramble that matched the server's cache.
pub const SHA2_FAST_AUTH_SUCCESS: [u8; 2] = [0x01, 0x03];

/// caching_sha2_password's "more data" packet asking for the password itself (sent only over TLS).
pub const SHA2_PERFORM_FULL_AUTH: [u8; 2] = [0x01, 0x04];

/// utf8mb4_general_ci: the character set of text values and the connection.
pub const UTF8MB4_GENERAL_CI: u16 = 45;

/// The `binary` character set, for bytes and for numbers and dates (as MySQL labels them).
pub const BINARY_CHARSET: u16 = 63;

/// The capabilities the server offers (TLS when it has a certificate); a connection uses those its client asks
/// for too.
pub fn server_capabilities(tls: bool) -> CapabilityFlags {
    let ssl = if tls {
        CapabilityFlags::CLIENT_SSL
    } else {
        CapabilityFlags::empty()
    };
    ssl | CapabilityFlags::CLIENT_LONG_PASSWORD
        | CapabilityFlags::CLIENT_FOUND_ROWS
        | CapabilityFlags::CLIENT_LONG_FLAG
        | CapabilityFlags::CLIENT_LOCAL_FILES
        | CapabilityFlags::CLIENT_CONNECT_WITH_DB
        | CapabilityFlags::CLIENT_PROTOCOL_41
        | CapabilityFlags::CLIENT_INTERACTIVE
        | CapabilityFlags::CLIENT_TRANSACTIONS
        | CapabilityFlags::CLIENT_SECURE_CONNECTION
        | CapabilityFlags::CLIENT_MULTI_STATEMENTS
        | CapabilityFlags::CLIENT_MULTI_RESULTS
        | CapabilityFlags::CLIENT_PS_MULTI_RESULTS
        | CapabilityFlags::CLIENT_PLUGIN_AUTH
        | CapabilityFlags::CLIENT_CONNECT_ATTRS
        | CapabilityFlags::CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
        | CapabilityFlags::CLIENT_DEPRECATE_EOF
}

/// The status flags of a session: autocommit and an open transaction.
pub fn status_flags(autocommit: bool, in_transaction: bool) -> StatusFlags {
    let mut flags = StatusFlags::empty();
    flags.set(StatusFlags::SERVER_STATUS_AUTOCOMMIT, autocommit);
    flags.set(StatusFlags::SERVER_STATUS_IN_TRANS, in_transaction);
    flags
}

/// The initial handshake (protocol 10) with the 20-byte scramble `salt`, announcing caching_sha2_password.
pub fn handshake(
    version: &str,
    connection_id: u32,
    salt: &[u8; 20],
    status: StatusFlags,
    tls: bool,
) -> Vec<u8> {
    let mut first = [0u8; 8];
    first.copy_from_slice(&salt[..8]);
    // The second part is NUL-terminated on the wire; the terminator counts in the announced length.
    let mut second = salt[8..].to_vec();
    second.push(0);
    let packet = HandshakePacket::new(
        10,
        version.as_bytes(),
        connection_id,
        first,
        Some(second),
        server_capabilities(tls),
        UTF8MB4_GENERAL_CI as u8,
        status,
        Some(CACHING_SHA2_PASSWORD.as_bytes()),
    );
    let mut buf = Vec::with_capacity(96);
    packet.serialize(&mut buf);
    buf
}

/// An AuthSwitchRequest asking the client to answer the scramble with `plugin`.
pub fn auth_switch(plugin: &str, salt: &[u8; 20]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(2 + plugin.len() + salt.len() + 1);
    buf.push(0xFE);
    buf.extend_from_slice(plugin.as_bytes());
    buf.push(0);
    buf.extend_from_slice(salt);
    buf.push(0);
    buf
}

/// An OK packet.
pub fn ok(
    caps: CapabilityFlags,
    affected_rows: u64,
    last_insert_id: u64,
    status: StatusFlags,
    warnings: u16,
) -> Vec<u8> {
    ok_with_header(0x00, caps, affected_rows, last_insert_id, status, warnings)
}

fn ok_with_header(
    header: u8,
    caps: CapabilityFlags,
    affected_rows: u64,
    last_insert_id: u64,
    status: StatusFlags,
    warnings: u16,
) -> Vec<u8> {
    let mut buf = Vec::with_capacity(16);
    buf.push(header);
    buf.put_lenenc_int(affected_rows);
    buf.put_lenenc_int(last_insert_id);
    if caps.contains(CapabilityFlags::CLIENT_PROTOCOL_41) {
        buf.extend_from_slice(&status.bits().to_le_bytes());
        buf.extend_from_slice(&warnings.to_le_bytes());
    } else if caps.contains(CapabilityFlags::CLIENT_TRANSACTIONS) {
        buf.extend_from_slice(&status.bits().to_le_bytes());
    }
    buf
}

/// An EOF packet (before CLIENT_DEPRECATE_EOF): warnings, then status flags.
pub fn eof(status: StatusFlags, warnings: u16) -> Vec<u8> {
    let mut buf = Vec::with_capacity(5);
    buf.push(0xFE);
    buf.extend_from_slice(&warnings.to_le_bytes());
    buf.extend_from_slice(&status.bits().to_le_bytes());
    buf
}

/// What ends a result set's rows: an EOF packet, or with CLIENT_DEPRECATE_EOF an OK packet with the EOF header.
pub fn rows_end(caps: CapabilityFlags, status: StatusFlags, warnings: u16) -> Vec<u8> {
    if caps.contains(CapabilityFlags::CLIENT_DEPRECATE_EOF) {
        ok_with_header(0xFE, caps, 0, 0, status, warnings)
    } else {
        eof(status, warnings)
    }
}

/// An ERR packet with MySQL error number `code`, SQLSTATE `state` and `message`.
pub fn err(code: u16, state: &str, message: &str) -> Vec<u8> {
    let mut buf = Vec::with_capacity(9 + message.len());
    buf.push(0xFF);
    buf.extend_from_slice(&code.to_le_bytes());
    buf.push(b'#');
    let mut sqlstate = *b"HY000";
    for (dst, src) in sqlstate.iter_mut().zip(state.bytes()) {
        *dst = src;
    }
    buf.extend_from_slice(&sqlstate);
    buf.extend_from_slice(message.as_bytes());
    buf
}

/// How one result column or parameter is described on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    /// Its name.
    pub name: String,
    /// Its MySQL type.
    pub column_type: ColumnType,
    /// Its flags (UNSIGNED, BINARY, ...).
    pub flags: ColumnFlags,
    /// Its character set: [`UTF8MB4_GENERAL_CI`] for text, [`BINARY_CHARSET`] otherwise.
    pub charset: u16,
    /// Its display length.
    pub length: u32,
    /// Its decimals (a DECIMAL's scale, a DATETIME's fractional digits).
    pub decimals: u8,
}

/// A column definition packet (Protocol::ColumnDefinition41). Written here rather than with
/// `mysql_common::packets::Column`, whose serializer puts the length before the character set.
pub fn column_definition(c: &ColumnDef) -> Vec<u8> {
    let mut buf = Vec::with_capacity(32 + 2 * c.name.len());
    buf.put_lenenc_str(b"def");
    buf.put_lenenc_str(b""); // schema
    buf.put_lenenc_str(b""); // table
    buf.put_lenenc_str(b""); // org_table
    buf.put_lenenc_str(c.name.as_bytes());
    buf.put_lenenc_str(c.name.as_bytes()); // org_name
    buf.put_lenenc_int(0x0C); // length of the fixed fields
    buf.extend_from_slice(&c.charset.to_le_bytes());
    buf.extend_from_slice(&c.length.to_le_bytes());
    buf.push(c.column_type as u8);
    buf.extend_from_slice(&c.flags.bits().to_le_bytes());
    buf.push(c.decimals);
    buf.extend_from_slice(&[0, 0]);
    buf
}

/// The first packet of a result set: its column count.
pub fn column_count(n: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(9);
    buf.put_lenenc_int(n as u64);
    buf
}

/// The reply to COM_STMT_PREPARE before its parameter and column definitions.
pub fn prepare_ok(statement_id: u32, columns: u16, params: u16) -> Vec<u8> {
    let mut buf = Vec::with_capacity(12);
    buf.push(0x00);
    buf.extend_from_slice(&statement_id.to_le_bytes());
    buf.extend_from_slice(&columns.to_le_bytes());
    buf.extend_from_slice(&params.to_le_bytes());
    buf.push(0x00);
    buf.extend_from_slice(&0u16.to_le_bytes());
    buf
}

/// Appends a length-encoded string (a text-protocol value).
pub fn put_lenenc_bytes(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.put_lenenc_str(bytes);
}

/// The text-protocol NULL.
pub const TEXT_NULL: u8 = 0xFB;

#[cfg(test)]
mod tests {
    use super::*;
    use mysql_common::io::ParseBuf;
    use mysql_common::packets::{HandshakePacket, OkPacketDeserializer, ResultSetTerminator};
    use mysql_common::proto::MyDeserialize;

    #[test]
    fn handshake_carries_status_and_scramble() {
        let salt = *b"abcdefghijklmnopqrst";
        let status = status_flags(true, false);
        let bytes = handshake("5.7.25-x", 7, &salt, status, true);
        let parsed = HandshakePacket::deserialize((), &mut ParseBuf(&bytes)).unwrap();
        assert_eq!(parsed.status_flags(), StatusFlags::SERVER_STATUS_AUTOCOMMIT);
        assert_eq!(parsed.connection_id(), 7);
        assert_eq!(parsed.nonce(), salt.to_vec());
        assert_eq!(
            parsed.auth_plugin_name_ref(),
            Some(CACHING_SHA2_PASSWORD.as_bytes())
        );
        assert!(parsed
            .capabilities()
            .contains(CapabilityFlags::CLIENT_TRANSACTIONS | CapabilityFlags::CLIENT_SSL));
        let plain = handshake("5.7.25-x", 7, &salt, status, false);
        let parsed = HandshakePacket::deserialize((), &mut ParseBuf(&plain)).unwrap();
        assert!(!parsed.capabilities().contains(CapabilityFlags::CLIENT_SSL));
    }

    #[test]
    fn column_definitions_parse_back() {
        let def = ColumnDef {
            name: "amount".into(),
            column_type: ColumnType::MYSQL_TYPE_NEWDECIMAL,
            flags: ColumnFlags::NUM_FLAG,
            charset: BINARY_CHARSET,
            length: 67,
            decimals: 2,
        };
        let bytes = column_definition(&def);
        let parsed = mysql_common::packets::Column::deserialize((), &mut ParseBuf(&bytes)).unwrap();
        assert_eq!(parsed.name_str(), "amount");
        assert_eq!(parsed.character_set(), BINARY_CHARSET);
        assert_eq!(parsed.column_length(), 67);
        assert_eq!(parsed.column_type(), ColumnType::MYSQL_TYPE_NEWDECIMAL);
        assert_eq!(parsed.decimals(), 2);
        assert_eq!(parsed.flags(), ColumnFlags::NUM_FLAG);
    }

    #[test]
    fn rows_end_carries_status() {
        let caps = server_capabilities(false);
        let status = status_flags(false, true);
        let bytes = rows_end(caps, status, 0);
        let ok: OkPacketDeserializer<'_, ResultSetTerminator> =
            MyDeserialize::deserialize(caps, &mut ParseBuf(&bytes)).unwrap();
        assert_eq!(
            ok.into_inner().status_flags(),
            StatusFlags::SERVER_STATUS_IN_TRANS
        );
        let old = eof(status, 3);
        assert_eq!(old, vec![0xFE, 3, 0, 1, 0]);
    }
}
