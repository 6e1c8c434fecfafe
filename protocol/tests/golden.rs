//! Golden bytes for every message variant: a reordered enum or a changed field
//! fails here before it can silently break a client of another build.

use bytes::{BufMut, Bytes, BytesMut};
use symp_protocol::*;
use tokio_util::codec::{Decoder, Encoder};

fn size() -> Size {
    Size { cols: 80, rows: 24 }
}

fn client_messages() -> Vec<ClientMsg> {
    vec![
        ClientMsg::Hello { version: 1 },
        ClientMsg::Spawn(SpawnRequest {
            name: Some("a".into()),
            command: vec!["sh".into()],
            cwd: "/".into(),
            env: vec![("K".into(), "V".into())],
            size: size(),
            scrollback: Some(10),
            label: None,
        }),
        ClientMsg::List { all: true },
        ClientMsg::Attach {
            name: "a".into(),
            read_only: false,
            size: size(),
        },
        ClientMsg::Input(b"ls\r".to_vec()),
        ClientMsg::Resize(size()),
        ClientMsg::Detach,
        ClientMsg::Kill {
            name: "a".into(),
            signal: Some(15),
        },
        ClientMsg::Remove {
            names: vec!["a".into()],
            exited: false,
        },
        ClientMsg::ServerStatus,
        ClientMsg::ServerStop,
        ClientMsg::TerminalReply(b"\x1b]11;?\x07".to_vec()),
        ClientMsg::Send {
            name: "a".into(),
            data: vec![
                SendPart::Text("hi".into()),
                SendPart::Key("Enter".into()),
                SendPart::Paste("p".into()),
                SendPart::Settle { millis: 200 },
            ],
        },
        ClientMsg::Capture {
            name: "a".into(),
            ansi: true,
            history: HistoryRange::Lines(5),
        },
        ClientMsg::Wait {
            name: "a".into(),
            until: WaitFor::Match {
                regex: "x".into(),
                scrollback: true,
            },
            timeout_ms: Some(1000),
        },
        ClientMsg::Events { name: None },
        ClientMsg::AttachTerminal {
            name: "a".into(),
            read_only: false,
            size: size(),
            detach_key: Some("C-\\".into()),
        },
    ]
}

fn server_messages() -> Vec<ServerMsg> {
    vec![
        ServerMsg::Welcome {
            version: 1,
            server_pid: 7,
        },
        ServerMsg::Error {
            message: "no".into(),
        },
        ServerMsg::Spawned {
            name: "a".into(),
            pid: 9,
        },
        ServerMsg::Sessions(vec![SessionInfo {
            name: "a".into(),
            status: Status::Exited { code: 3 },
            pid: Some(9),
            command: vec!["sh".into()],
            cwd: "/".into(),
            label: None,
            clients: 1,
            read_only_clients: 0,
            created_ms: 1,
            last_output_ms: None,
            last_attach_ms: Some(2),
            ended_ms: None,
            size: size(),
            title: "t".into(),
            idle: true,
        }]),
        ServerMsg::Snapshot(Bytes::from_static(b"\x1b[H")),
        ServerMsg::Output(Bytes::from_static(b"out")),
        ServerMsg::Exited {
            status: Status::Killed { signal: 9 },
        },
        ServerMsg::Done,
        ServerMsg::ServerInfo {
            pid: 1,
            version: "0.1.0".into(),
            sessions: 2,
            running: 1,
        },
        ServerMsg::Captured(Capture {
            history: vec!["h".into()],
            rows: vec!["r".into()],
            cursor: (1, 2),
            cursor_visible: true,
            size: size(),
            title: String::new(),
            alternate_screen: false,
            status: Status::Running,
        }),
        ServerMsg::Waited {
            met: false,
            status: Status::Lost,
        },
        ServerMsg::Event("{}".into()),
        ServerMsg::Removed {
            names: vec!["a".into()],
        },
        ServerMsg::Attached,
        ServerMsg::Detached,
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const CLIENT_GOLDEN: &[&str] = &[
    "0001",
    "0101016101027368012f01014b01565018010a00",
    "0201",
    "030161005018",
    "04036c730d",
    "055018",
    "06",
    "070161011e",
    "0801016100",
    "09",
    "0a",
    "0b071b5d31313b3f07",
    "0c016104000268690105456e74657202017003c801",
    "0d0161010105",
    "0e01610201780101e807",
    "0f00",
    "1001610050180103432d5c",
];

const SERVER_GOLDEN: &[&str] = &[
    "000107",
    "01026e6f",
    "02016109",
    "030101610106010901027368012f00010001000102005018017401",
    "04031b5b48",
    "05036f7574",
    "060212",
    "07",
    "080105302e312e300201",
    "090101680101720102015018000000",
    "0a0003",
    "0b027b7d",
    "0c010161",
    "0d",
    "0e",
];

#[test]
fn every_variant_round_trips() {
    for msg in client_messages() {
        let bytes = encode(&msg).expect("encode");
        assert_eq!(decode::<ClientMsg>(&bytes).expect("decode"), msg);
    }
    for msg in server_messages() {
        let bytes = encode(&msg).expect("encode");
        assert_eq!(decode::<ServerMsg>(&bytes).expect("decode"), msg);
    }
}

#[test]
fn client_messages_have_their_golden_bytes() {
    let actual: Vec<String> = client_messages()
        .iter()
        .map(|m| hex(&encode(m).expect("encode")))
        .collect();
    let expected: Vec<String> = CLIENT_GOLDEN.iter().map(|s| s.to_string()).collect();
    assert_eq!(actual, expected);
}

#[test]
fn server_messages_have_their_golden_bytes() {
    let actual: Vec<String> = server_messages()
        .iter()
        .map(|m| hex(&encode(m).expect("encode")))
        .collect();
    let expected: Vec<String> = SERVER_GOLDEN.iter().map(|s| s.to_string()).collect();
    assert_eq!(actual, expected);
}

#[test]
fn hello_is_variant_zero_forever() {
    // A client of any version must be able to say which version it speaks.
    assert_eq!(
        encode(&ClientMsg::Hello {
            version: PROTOCOL_VERSION
        })
        .expect("encode")[0],
        0
    );
}

#[test]
fn frames_round_trip_through_the_codec() {
    let mut codec = FrameCodec::<ClientMsg, ClientMsg>::default();
    let mut buf = BytesMut::new();
    for msg in client_messages() {
        codec.encode(msg, &mut buf).expect("encode");
    }
    let expected: Vec<u8> = client_messages()
        .iter()
        .flat_map(|m| frame(m).expect("frame").to_vec())
        .collect();
    assert_eq!(
        &buf[..],
        &expected[..],
        "the codec writes the same bytes as frame()"
    );
    for msg in client_messages() {
        assert_eq!(codec.decode(&mut buf).expect("decode"), Some(msg));
    }
    assert_eq!(codec.decode(&mut buf).expect("empty"), None);
}

#[test]
fn an_oversized_frame_is_refused_before_it_is_buffered() {
    let mut codec = FrameCodec::<ClientMsg, ServerMsg>::default();
    let mut buf = BytesMut::new();
    buf.put_u32(u32::MAX);
    buf.put_slice(b"xx");
    assert!(
        matches!(codec.decode(&mut buf), Err(ProtocolError::Oversized(n)) if n == u32::MAX as usize)
    );
}

#[test]
fn a_truncated_frame_waits_and_a_truncated_payload_fails() {
    let mut codec = FrameCodec::<ClientMsg, ServerMsg>::default();
    let full = frame(&ClientMsg::Attach {
        name: "abc".into(),
        read_only: true,
        size: size(),
    })
    .expect("frame");
    let mut half = BytesMut::from(&full[..full.len() - 2]);
    assert_eq!(
        codec.decode(&mut half).expect("incomplete is not an error"),
        None
    );

    // A complete frame whose payload stops early is malformed.
    let payload = &full[4..full.len() - 2];
    let mut bad = BytesMut::new();
    bad.put_u32(payload.len() as u32);
    bad.put_slice(payload);
    assert!(matches!(
        codec.decode(&mut bad),
        Err(ProtocolError::Malformed(_))
    ));
}

#[test]
fn garbage_and_unknown_variants_fail_cleanly() {
    assert!(decode::<ClientMsg>(&[0xff, 0xff, 0xff]).is_err());
    assert!(decode::<ClientMsg>(&[]).is_err());
    // Variant 200 does not exist.
    assert!(decode::<ClientMsg>(&[0xc8, 0x01]).is_err());
    // Trailing bytes after a whole message are not accepted either.
    assert!(decode::<ClientMsg>(&[0x06, 0x00]).is_err());
}
