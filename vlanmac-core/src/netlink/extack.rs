//! The kernel's extended acknowledgement (NETLINK_EXT_ACK): the text that
//! `ip` prints after `Error:`, e.g. "VLAN device already exists".

const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const NLMSG_HDRLEN: usize = 16;

/// Extracts the NLMSGERR_ATTR_MSG string from an NLMSG_ERROR payload
/// (the bytes after the errno: the request's header, the request's body
/// unless `NLM_F_CAPPED`, then TLVs when `NLM_F_ACK_TLVS`). Never panics on
/// malformed input; returns `None` when there is no message.
pub fn message(outer_flags: u16, payload: &[u8]) -> Option<String> {
    if outer_flags & NLM_F_ACK_TLVS == 0 || payload.len() < NLMSG_HDRLEN {
        return None;
    }
    let start = if outer_flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        let len = u32::from_ne_bytes(payload.get(0..4)?.try_into().ok()?) as usize;
        align4(len.max(NLMSG_HDRLEN))
    };
    let mut tlvs = payload.get(start..)?;
    while tlvs.len() >= 4 {
        let len = u16::from_ne_bytes([tlvs[0], tlvs[1]]) as usize;
        let kind = u16::from_ne_bytes([tlvs[2], tlvs[3]]) & 0x3fff;
        if len < 4 || len > tlvs.len() {
            return None;
        }
        if kind == NLMSGERR_ATTR_MSG {
            let value = &tlvs[4..len];
            let text = value.split(|b| *b == 0).next().unwrap_or(&[]);
            let s = String::from_utf8_lossy(text).trim().to_string();
            return (!s.is_empty()).then_some(s);
        }
        tlvs = tlvs.get(align4(len)..).unwrap_or(&[]);
    }
    None
}

fn align4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(value);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    #[test]
    fn capped_with_message() {
        let mut p = vec![0u8; 16];
        p.extend(tlv(2, &[0, 0, 0, 0])); // NLMSGERR_ATTR_OFFS first
        p.extend(tlv(1, b"VLAN device already exists\0"));
        assert_eq!(message(NLM_F_CAPPED | NLM_F_ACK_TLVS, &p).as_deref(), Some("VLAN device already exists"));
        assert_eq!(message(NLM_F_CAPPED, &p), None);
    }

    #[test]
    fn uncapped_skips_the_request() {
        let mut p = vec![0u8; 24];
        p[0..4].copy_from_slice(&24u32.to_ne_bytes());
        p.extend(tlv(1, b"Unknown device type\0"));
        assert_eq!(message(NLM_F_ACK_TLVS, &p).as_deref(), Some("Unknown device type"));
    }

    #[test]
    fn malformed_never_panics() {
        for p in [vec![], vec![0; 3], vec![0xff; 16], vec![0xff; 40], {
            let mut v = vec![0u8; 16];
            v.extend([0xff, 0xff, 1, 0]);
            v
        }] {
            let _ = message(NLM_F_CAPPED | NLM_F_ACK_TLVS, &p);
            let _ = message(NLM_F_ACK_TLVS, &p);
        }
        let mut huge = vec![0u8; 20];
        huge[0..4].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert_eq!(message(NLM_F_ACK_TLVS, &huge), None);
    }
}
