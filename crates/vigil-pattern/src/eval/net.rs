//! IPv4 and IPv6 subnets for `ISSUBSET` and `ISSUPERSET`.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::EvalError;

/// An address or subnet: the address bits, the family width, the prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Net {
    addr: u128,
    width: u8,
    prefix: u8,
}

fn parse_net(s: &str) -> Option<Net> {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let (addr, width) = if let Ok(v4) = addr.parse::<Ipv4Addr>() {
        (u128::from(u32::from(v4)), 32u8)
    } else {
        (u128::from(addr.parse::<Ipv6Addr>().ok()?), 128u8)
    };
    let prefix = match prefix {
        None => width,
        Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
            let n: u8 = p.parse().ok()?;
            (n <= width).then_some(n)?
        }
        Some(_) => return None,
    };
    Some(Net {
        addr,
        width,
        prefix,
    })
}

fn mask(width: u8, prefix: u8) -> u128 {
    let all = if width == 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    };
    if prefix == 0 {
        0
    } else {
        all & !((1u128 << (width - prefix)) - 1)
    }
}

/// True if the address or subnet `inner` lies within the subnet `outer`.
/// A plain address is a one-address subnet. Addresses of different
/// families never contain each other; text that is no address is an error.
pub(super) fn ip_in_subnet(inner: &str, outer: &str) -> Result<bool, EvalError> {
    let bad = |s: &str| EvalError::Value(format!("{s:?} is not an IP address or CIDR subnet"));
    let a = parse_net(inner).ok_or_else(|| bad(inner))?;
    let b = parse_net(outer).ok_or_else(|| bad(outer))?;
    if a.width != b.width || b.prefix > a.prefix {
        return Ok(false);
    }
    let m = mask(b.width, b.prefix);
    Ok(a.addr & m == b.addr & m)
}

#[cfg(test)]
mod tests {
    use super::ip_in_subnet;

    #[test]
    fn v4_and_v6_containment() {
        assert!(ip_in_subnet("10.1.2.3", "10.0.0.0/8").unwrap());
        assert!(!ip_in_subnet("11.1.2.3", "10.0.0.0/8").unwrap());
        assert!(ip_in_subnet("10.1.0.0/16", "10.0.0.0/8").unwrap());
        assert!(!ip_in_subnet("10.0.0.0/8", "10.1.0.0/16").unwrap());
        assert!(ip_in_subnet("1.2.3.4", "0.0.0.0/0").unwrap());
        assert!(ip_in_subnet("1.2.3.4", "1.2.3.4").unwrap());
        assert!(ip_in_subnet(
            "2001:db8:dead:beef::1",
            "2001:0db8:dead:beef:0000:0000:0000:0000/64"
        )
        .unwrap());
        assert!(!ip_in_subnet("2001:db8:dead:bee0::1", "2001:db8:dead:beef::/64").unwrap());
        assert!(ip_in_subnet("::1", "::/0").unwrap());
        assert!(!ip_in_subnet("10.0.0.1", "::/0").unwrap());
        assert!(ip_in_subnet("not an ip", "10.0.0.0/8").is_err());
        assert!(ip_in_subnet("10.0.0.1", "10.0.0.0/33").is_err());
    }
}
