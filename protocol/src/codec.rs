//! Length-delimited postcard frames with a hard size limit.

use std::marker::PhantomData;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use serde::{de::DeserializeOwned, Serialize};
use tokio_util::codec::{Decoder, Encoder};

/// Largest frame either side accepts (payload bytes, without the 4-byte length).
/// A snapshot with a long scrollback replay is the largest message; 8 MiB leaves
/// room for 10,000 coloured lines while bounding what a bad peer can make us buffer.
pub const MAX_FRAME_LEN: usize = 8 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("frame of {0} bytes exceeds the {MAX_FRAME_LEN}-byte limit")]
    Oversized(usize),
    #[error("malformed frame: {0}")]
    Malformed(#[from] postcard::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Encodes one message as a postcard payload (without the length prefix).
pub fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, ProtocolError> {
    Ok(postcard::to_stdvec(msg)?)
}

/// Decodes one postcard payload; trailing bytes are an error so a frame means exactly one message.
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, ProtocolError> {
    let (msg, rest) = postcard::take_from_bytes(payload)?;
    if !rest.is_empty() {
        return Err(ProtocolError::Malformed(
            postcard::Error::DeserializeBadEncoding,
        ));
    }
    Ok(msg)
}

/// A tokio codec that reads `In` frames and writes `Out` frames.
///
/// Stateless on purpose: every call looks at a frame's length prefix, so a frame
/// that arrives in pieces is judged by its prefix and never by its payload.
pub struct FrameCodec<In, Out> {
    _types: PhantomData<fn(Out) -> In>,
}

impl<In, Out> Default for FrameCodec<In, Out> {
    fn default() -> Self {
        Self {
            _types: PhantomData,
        }
    }
}

impl<In: DeserializeOwned, Out> Decoder for FrameCodec<In, Out> {
    type Item = In;
    type Error = ProtocolError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<In>, ProtocolError> {
        if src.len() < 4 {
            return Ok(None);
        }
        let announced = (&src[..4]).get_u32() as usize;
        if announced > MAX_FRAME_LEN {
            return Err(ProtocolError::Oversized(announced));
        }
        if src.len() < 4 + announced {
            src.reserve(4 + announced - src.len());
            return Ok(None);
        }
        src.advance(4);
        let payload = src.split_to(announced);
        Ok(Some(decode(&payload)?))
    }
}

impl<In, Out: Serialize> Encoder<Out> for FrameCodec<In, Out> {
    type Error = ProtocolError;

    fn encode(&mut self, msg: Out, dst: &mut BytesMut) -> Result<(), ProtocolError> {
        // Serialized straight into the write buffer (output frames are the hot
        // path: no temporary payload), then the length prefix is filled in.
        let start = dst.len();
        dst.put_u32(0);
        if let Err(err) = postcard::to_io(&msg, dst.writer()) {
            dst.truncate(start);
            return Err(err.into());
        }
        let len = dst.len() - start - 4;
        if len > MAX_FRAME_LEN {
            dst.truncate(start);
            return Err(ProtocolError::Oversized(len));
        }
        dst[start..start + 4].copy_from_slice(&(len as u32).to_be_bytes());
        Ok(())
    }
}

/// Frames one message into a standalone buffer (for blocking writers and tests).
pub fn frame<T: Serialize>(msg: &T) -> Result<Bytes, ProtocolError> {
    let payload = encode(msg)?;
    let mut out = BytesMut::with_capacity(4 + payload.len());
    out.put_u32(payload.len() as u32);
    out.extend_from_slice(&payload);
    Ok(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame whose head arrives before its payload: the payload's first bytes (a
    /// two-byte length, then x's) must never be taken for another length prefix.
    #[test]
    fn a_frame_arriving_in_pieces_decodes() {
        let msg = vec![b'x'; 4095];
        let whole = frame(&msg).expect("frame");
        let mut codec = FrameCodec::<Vec<u8>, Vec<u8>>::default();
        let mut buf = BytesMut::from(&whole[..4]);
        assert_eq!(codec.decode(&mut buf).expect("head only"), None);
        buf.extend_from_slice(&whole[4..100]);
        assert_eq!(codec.decode(&mut buf).expect("part of the payload"), None);
        buf.extend_from_slice(&whole[100..]);
        assert_eq!(codec.decode(&mut buf).expect("whole"), Some(msg));
        assert!(buf.is_empty());
    }
}
