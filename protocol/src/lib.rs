//! The symp wire protocol: message types, the frame codec and the version handshake.
//!
//! Data only: no sockets, no policy. Postcard encodes enum variants by position,
//! so every enum here is append-only; any other change bumps [`PROTOCOL_VERSION`].

mod codec;
mod messages;

pub use codec::{decode, encode, frame, FrameCodec, ProtocolError, MAX_FRAME_LEN};
pub use messages::*;

/// Bumped on any change to the wire layout other than appending a variant.
pub const PROTOCOL_VERSION: u32 = 1;
