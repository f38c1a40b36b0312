//! LINKTYPE_ values of capture files that tlsmon meets (mirrors `tlsmon/capture/linktypes.py`).
//!
//! Raw IP is recorded as 12 or 14 (the DLT_RAW of BSD and OpenBSD) by some writers instead of 101;
//! libpcap's registry and Wireshark read them as raw IP, and so does tlsmon.

pub const LINKTYPE_NULL: u32 = 0;
pub const LINKTYPE_ETHERNET: u32 = 1;
pub const LINKTYPE_PPP: u32 = 9;
pub const LINKTYPE_RAW_BSD: u32 = 12;
pub const LINKTYPE_RAW_OPENBSD: u32 = 14;
pub const LINKTYPE_RAW: u32 = 101;
pub const LINKTYPE_LOOP: u32 = 108;
pub const LINKTYPE_LINUX_SLL: u32 = 113;
pub const LINKTYPE_IPV4: u32 = 228;
pub const LINKTYPE_IPV6: u32 = 229;
pub const LINKTYPE_LINUX_SLL2: u32 = 276;

/// Link types the decoder handles.
pub fn is_supported(linktype: u32) -> bool {
    matches!(
        linktype,
        LINKTYPE_NULL
            | LINKTYPE_ETHERNET
            | LINKTYPE_PPP
            | LINKTYPE_RAW_BSD
            | LINKTYPE_RAW_OPENBSD
            | LINKTYPE_RAW
            | LINKTYPE_LOOP
            | LINKTYPE_LINUX_SLL
            | LINKTYPE_IPV4
            | LINKTYPE_IPV6
            | LINKTYPE_LINUX_SLL2
    )
}

/// Raw IPv4/IPv6 link types (the version comes from the first nibble).
pub fn is_raw_ip(linktype: u32) -> bool {
    matches!(
        linktype,
        LINKTYPE_RAW_BSD | LINKTYPE_RAW_OPENBSD | LINKTYPE_RAW
    )
}

/// The registry name of `linktype`, or `"unknown"`, for error messages.
pub fn linktype_name(linktype: u32) -> String {
    let name = match linktype {
        0 => "NULL",
        1 => "ETHERNET",
        3 => "AX25",
        6 => "IEEE802_5",
        7 => "ARCNET_BSD",
        8 => "SLIP",
        9 => "PPP",
        10 => "FDDI",
        12 => "RAW (DLT_RAW)",
        14 => "RAW (OpenBSD DLT_RAW)",
        50 => "PPP_HDLC",
        51 => "PPP_ETHER",
        100 => "ATM_RFC1483",
        101 => "RAW",
        104 => "C_HDLC",
        105 => "IEEE802_11",
        107 => "FRELAY",
        108 => "LOOP",
        113 => "LINUX_SLL",
        117 => "PFLOG",
        119 => "IEEE802_11_PRISM",
        127 => "IEEE802_11_RADIOTAP",
        143 => "DOCSIS",
        147..=162 => return format!("USER{}", linktype - 147),
        163 => "IEEE802_11_AVS",
        187 => "BLUETOOTH_HCI_H4",
        189 => "USB_LINUX",
        192 => "PPI",
        195 => "IEEE802_15_4_WITHFCS",
        197 => "ERF",
        201 => "BLUETOOTH_HCI_H4_WITH_PHDR",
        220 => "USB_LINUX_MMAPPED",
        228 => "IPV4",
        229 => "IPV6",
        239 => "NFLOG",
        249 => "USBPCAP",
        252 => "WIRESHARK_UPPER_PDU",
        274 => "NORDIC_BLE",
        276 => "LINUX_SLL2",
        _ => "unknown",
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_registry() {
        assert_eq!(linktype_name(105), "IEEE802_11");
        assert_eq!(linktype_name(150), "USER3");
        assert_eq!(linktype_name(61151), "unknown");
    }

    #[test]
    fn supported_link_types_are_the_decoders() {
        assert!(is_supported(LINKTYPE_LINUX_SLL2));
        assert!(!is_supported(105));
    }
}
