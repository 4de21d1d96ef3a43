//! STIX Cyber-observable Objects (STIX 2.1 §6), with the `file` extensions.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::common::{stix_type, CustomProperties, ScoCommon};
use crate::{Error, Identifier, Timestamp};

/// A `hashes` dictionary: algorithm name to hex value.
pub type Hashes = BTreeMap<String, String>;

stix_type! {
    /// `artifact`: an array of bytes (inline base64 or by URL).
    Artifact(ScoCommon) = "artifact" {}
    optional {
        mime_type: String,
        payload_bin: String,
        url: String,
        hashes: Hashes,
        encryption_algorithm: String,
        decryption_key: String,
    }
}

stix_type! {
    /// `autonomous-system`.
    AutonomousSystem(ScoCommon) = "autonomous-system" { number: u64, }
    optional {
        name: String,
        rir: String,
    }
}

stix_type! {
    /// `directory`: a file-system directory.
    Directory(ScoCommon) = "directory" { path: String, }
    optional {
        path_enc: String,
        ctime: Timestamp,
        mtime: Timestamp,
        atime: Timestamp,
        contains_refs: Vec<Identifier>,
    }
}

stix_type! {
    /// `domain-name`.
    DomainName(ScoCommon) = "domain-name" { value: String, }
    optional {
        resolves_to_refs: Vec<Identifier>,
    }
}

stix_type! {
    /// `email-addr`.
    EmailAddr(ScoCommon) = "email-addr" { value: String, }
    optional {
        display_name: String,
        belongs_to_ref: Identifier,
    }
}

stix_type! {
    /// `email-message`.
    EmailMessage(ScoCommon) = "email-message" { is_multipart: bool, }
    optional {
        date: Timestamp,
        content_type: String,
        from_ref: Identifier,
        sender_ref: Identifier,
        to_refs: Vec<Identifier>,
        cc_refs: Vec<Identifier>,
        bcc_refs: Vec<Identifier>,
        message_id: String,
        subject: String,
        received_lines: Vec<String>,
        additional_header_fields: Map<String, Value>,
        body: String,
        /// MIME parts, kept as read.
        body_multipart: Vec<Value>,
        raw_email_ref: Identifier,
    }
}

stix_type! {
    /// `file`. Its predefined extensions are read on demand with [`File::extension`].
    File(ScoCommon) = "file" {}
    optional {
        hashes: Hashes,
        size: u64,
        name: String,
        name_enc: String,
        magic_number_hex: String,
        mime_type: String,
        ctime: Timestamp,
        mtime: Timestamp,
        atime: Timestamp,
        parent_directory_ref: Identifier,
        contains_refs: Vec<Identifier>,
        content_ref: Identifier,
    }
}

stix_type! {
    /// `ipv4-addr`.
    Ipv4Addr(ScoCommon) = "ipv4-addr" { value: String, }
    optional {
        resolves_to_refs: Vec<Identifier>,
        belongs_to_refs: Vec<Identifier>,
    }
}

stix_type! {
    /// `ipv6-addr`.
    Ipv6Addr(ScoCommon) = "ipv6-addr" { value: String, }
    optional {
        resolves_to_refs: Vec<Identifier>,
        belongs_to_refs: Vec<Identifier>,
    }
}

stix_type! {
    /// `mac-addr`.
    MacAddr(ScoCommon) = "mac-addr" { value: String, }
    optional {}
}

stix_type! {
    /// `mutex`.
    Mutex(ScoCommon) = "mutex" { name: String, }
    optional {}
}

stix_type! {
    /// `network-traffic`. Its extensions stay in `common.extensions` as read.
    NetworkTraffic(ScoCommon) = "network-traffic" { protocols: Vec<String>, }
    optional {
        start: Timestamp,
        end: Timestamp,
        is_active: bool,
        src_ref: Identifier,
        dst_ref: Identifier,
        src_port: u64,
        dst_port: u64,
        src_byte_count: u64,
        dst_byte_count: u64,
        src_packets: u64,
        dst_packets: u64,
        ipfix: Map<String, Value>,
        src_payload_ref: Identifier,
        dst_payload_ref: Identifier,
        encapsulates_refs: Vec<Identifier>,
        encapsulated_by_ref: Identifier,
    }
}

stix_type! {
    /// `process`. Its extensions stay in `common.extensions` as read.
    Process(ScoCommon) = "process" {}
    optional {
        is_hidden: bool,
        pid: i64,
        created_time: Timestamp,
        cwd: String,
        command_line: String,
        environment_variables: Map<String, Value>,
        opened_connection_refs: Vec<Identifier>,
        creator_user_ref: Identifier,
        image_ref: Identifier,
        parent_ref: Identifier,
        child_refs: Vec<Identifier>,
    }
}

stix_type! {
    /// `software`.
    Software(ScoCommon) = "software" { name: String, }
    optional {
        cpe: String,
        swid: String,
        languages: Vec<String>,
        vendor: String,
        version: String,
    }
}

stix_type! {
    /// `url`.
    Url(ScoCommon) = "url" { value: String, }
    optional {}
}

stix_type! {
    /// `user-account`. Its extensions stay in `common.extensions` as read.
    UserAccount(ScoCommon) = "user-account" {}
    optional {
        user_id: String,
        credential: String,
        account_login: String,
        account_type: String,
        display_name: String,
        is_service_account: bool,
        is_privileged: bool,
        can_escalate_privs: bool,
        is_disabled: bool,
        account_created: Timestamp,
        account_expires: Timestamp,
        credential_last_changed: Timestamp,
        account_first_login: Timestamp,
        account_last_login: Timestamp,
    }
}

stix_type! {
    /// `windows-registry-key`.
    WindowsRegistryKey(ScoCommon) = "windows-registry-key" {}
    optional {
        key: String,
        /// Registry values, kept as read.
        values: Vec<Value>,
        modified_time: Timestamp,
        creator_user_ref: Identifier,
        number_of_subkeys: u64,
    }
}

stix_type! {
    /// `x509-certificate`.
    X509Certificate(ScoCommon) = "x509-certificate" {}
    optional {
        is_self_signed: bool,
        hashes: Hashes,
        version: String,
        serial_number: String,
        signature_algorithm: String,
        issuer: String,
        validity_not_before: Timestamp,
        validity_not_after: Timestamp,
        subject: String,
        subject_public_key_algorithm: String,
        subject_public_key_modulus: String,
        subject_public_key_exponent: u64,
        /// X.509 v3 extensions, kept as read.
        x509_v3_extensions: Map<String, Value>,
    }
}

/// A predefined `file` extension that can be read from `extensions`.
pub trait FileExtension: DeserializeOwned {
    /// The key under `extensions` (`"archive-ext"`, …).
    const NAME: &'static str;
}

macro_rules! file_extension {
    ($(#[$doc:meta])* $name:ident = $key:literal { $( $req:ident : $rty:ty, )* } optional { $( $opt:ident : $oty:ty, )* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            $(
                #[doc = concat!("`", stringify!($req), "` (required).")]
                pub $req: $rty,
            )*
            $(
                #[doc = concat!("`", stringify!($opt), "`.")]
                #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::common::present")]
                pub $opt: Option<$oty>,
            )*
            /// Any other property, kept as read.
            #[serde(flatten)]
            pub custom: CustomProperties,
        }
        impl FileExtension for $name {
            const NAME: &'static str = $key;
        }
    };
}

file_extension! {
    /// `archive-ext`: the file is an archive.
    ArchiveExt = "archive-ext" { contains_refs: Vec<Identifier>, } optional { comment: String, }
}

file_extension! {
    /// `ntfs-ext`: NTFS properties.
    NtfsExt = "ntfs-ext" {} optional { sid: String, alternate_data_streams: Vec<Value>, }
}

file_extension! {
    /// `pdf-ext`: PDF properties.
    PdfExt = "pdf-ext" {} optional {
        version: String,
        is_optimized: bool,
        document_info_dict: BTreeMap<String, String>,
        pdfid0: String,
        pdfid1: String,
    }
}

file_extension! {
    /// `raster-image-ext`: raster image properties.
    RasterImageExt = "raster-image-ext" {} optional {
        image_height: u64,
        image_width: u64,
        bits_per_pixel: u64,
        exif_tags: Map<String, Value>,
    }
}

file_extension! {
    /// `windows-pebinary-ext`: Windows PE properties (headers and sections kept as read).
    WindowsPeBinaryExt = "windows-pebinary-ext" { pe_type: String, } optional {
        imphash: String,
        machine_hex: String,
        number_of_sections: u64,
        time_date_stamp: Timestamp,
        pointer_to_symbol_table_hex: String,
        number_of_symbols: u64,
        size_of_optional_header: u64,
        characteristics_hex: String,
        file_header_hashes: Hashes,
        optional_header: Map<String, Value>,
        sections: Vec<Value>,
    }
}

impl File {
    /// Reads a predefined extension from `extensions`, if present.
    ///
    /// ```
    /// # use vigil_stix::{File, ArchiveExt};
    /// let file: File = serde_json::from_value(serde_json::json!({
    ///     "type": "file", "id": "file--73c4cd13-7206-5100-88ee-822c42d3f02a", "name": "a.zip",
    ///     "extensions": {"archive-ext": {"contains_refs": ["file--019fde1c-94ab-5bb5-8dd3-3c0d4d0e6f3d"]}}
    /// })).unwrap();
    /// let zip = file.extension::<ArchiveExt>().unwrap().unwrap();
    /// assert_eq!(zip.contains_refs.len(), 1);
    /// ```
    pub fn extension<T: FileExtension>(&self) -> Option<Result<T, Error>> {
        let raw = self.common.extensions.as_ref()?.get(T::NAME)?;
        Some(T::deserialize(raw).map_err(|e| Error::Property {
            index: None,
            pointer: format!("/extensions/{}", T::NAME),
            message: e.to_string(),
        }))
    }
}
