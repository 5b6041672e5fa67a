//! The primitive encodings shared by the statements and the content hash
//! (docs/ENDORSEMENTS.md, "Primitive encodings"): big-endian integers,
//! `u32`-length-prefixed UTF-8 strings, counted lists, tagged options,
//! dates as year, month, day.

use chrono::{Datelike, NaiveDate};

use super::StatementError;

/// Appends primitives to a byte buffer.
#[derive(Debug, Default)]
pub(crate) struct Writer(pub(crate) Vec<u8>);

impl Writer {
    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    pub(crate) fn u8(&mut self, value: u8) {
        self.0.push(value);
    }

    pub(crate) fn bool(&mut self, value: bool) {
        self.0.push(u8::from(value));
    }

    pub(crate) fn u32(&mut self, value: u32) {
        self.0.extend_from_slice(&value.to_be_bytes());
    }

    /// A length or count. Nothing Lynchpin encodes comes near 4 GiB; a
    /// longer one would be cut to `u32::MAX` (and its statement would not
    /// decode).
    pub(crate) fn len(&mut self, len: usize) {
        self.u32(u32::try_from(len).unwrap_or(u32::MAX));
    }

    pub(crate) fn i64(&mut self, value: i64) {
        self.0.extend_from_slice(&value.to_be_bytes());
    }

    /// `u32` byte length, then the UTF-8 bytes.
    pub(crate) fn str(&mut self, value: &str) {
        self.len(value.len());
        self.bytes(value.as_bytes());
    }

    /// `u32` count, then each string.
    pub(crate) fn strs(&mut self, values: &[String]) {
        self.len(values.len());
        for value in values {
            self.str(value);
        }
    }

    /// `0x00`, or `0x01` then the string.
    pub(crate) fn opt_str(&mut self, value: Option<&str>) {
        match value {
            Some(value) => {
                self.u8(1);
                self.str(value);
            }
            None => self.u8(0),
        }
    }

    /// `0x00`, or `0x01` then the byte.
    pub(crate) fn opt_u8(&mut self, value: Option<u8>) {
        match value {
            Some(value) => {
                self.u8(1);
                self.u8(value);
            }
            None => self.u8(0),
        }
    }

    /// Year as `i32`, then month and day as one byte each.
    pub(crate) fn date(&mut self, value: NaiveDate) {
        self.0.extend_from_slice(&value.year().to_be_bytes());
        // Months and days fit in a byte.
        self.u8(u8::try_from(value.month()).unwrap_or(0));
        self.u8(u8::try_from(value.day()).unwrap_or(0));
    }

    /// `0x00`, or `0x01` then the date.
    pub(crate) fn opt_date(&mut self, value: Option<NaiveDate>) {
        match value {
            Some(value) => {
                self.u8(1);
                self.date(value);
            }
            None => self.u8(0),
        }
    }
}

/// Reads primitives from a byte slice; every read fails with
/// [`StatementError::Malformed`] past the end.
pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], StatementError> {
        let (head, rest) = self
            .0
            .split_at_checked(n)
            .ok_or(StatementError::Malformed)?;
        self.0 = rest;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], StatementError> {
        self.take(N)?
            .try_into()
            .map_err(|_| StatementError::Malformed)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, StatementError> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u32(&mut self) -> Result<u32, StatementError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn i64(&mut self) -> Result<i64, StatementError> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    pub(crate) fn str(&mut self) -> Result<String, StatementError> {
        let len = usize::try_from(self.u32()?).map_err(|_| StatementError::Malformed)?;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| StatementError::Malformed)
    }

    pub(crate) fn date(&mut self) -> Result<NaiveDate, StatementError> {
        let year = i32::from_be_bytes(self.array()?);
        let month = self.u8()?;
        let day = self.u8()?;
        NaiveDate::from_ymd_opt(year, month.into(), day.into()).ok_or(StatementError::Malformed)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
