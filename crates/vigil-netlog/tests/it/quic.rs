//! QUIC Initial packets in captures: the RFC 9001 Appendix A vector, and
//! generated connections whose ClientHello spans several packets.

use vigil_artefact::ObservableKind as K;
use vigil_netlog::{synth, Options};

use crate::{has, ip, run, tmp, T0};

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The protected client Initial packet of RFC 9001 Appendix A.2 (1200 bytes).
fn rfc9001_client_initial() -> Vec<u8> {
    let path = vigil_testkit::workspace_root()
        .join("crates/vigil-netlog/tests/data/rfc9001-a2-client-initial.hex");
    unhex(&std::fs::read_to_string(path).unwrap())
}

#[test]
fn rfc9001_appendix_a1_client_keys() {
    let k = vigil_netlog::client_initial_keys_v1(&unhex("8394c8f03e515708")).unwrap();
    assert_eq!(k.key.to_vec(), unhex("1f369613dd76d5467730efcbe3b1a22d"));
    assert_eq!(k.iv.to_vec(), unhex("fa044b2f42a3fd3b46fb255c"));
    assert_eq!(k.hp.to_vec(), unhex("9f50449e04a0e810283a1e9933adedd2"));
}

fn capture(name: &str, datagrams: &[Vec<u8>]) -> std::path::PathBuf {
    let mut p = synth::Pcap::new();
    for (i, d) in datagrams.iter().enumerate() {
        p.packet(
            T0 + i as i64,
            &synth::udp(ip("192.168.1.20"), ip("198.51.100.7"), 51000, 443, d),
        );
    }
    let f = tmp("quic").join(name);
    std::fs::write(&f, p.into_bytes()).unwrap();
    f
}

fn quic_names(f: &std::path::Path) -> Vec<(String, Option<i64>)> {
    let (recs, _) = run(&vigil_netlog::PcapModule::new(
        f.to_path_buf(),
        Options::default(),
    ));
    recs.iter()
        .filter(|r| r.event == "QUIC ClientHello")
        .map(|r| {
            let d = r.observables.iter().find(|o| o.kind == K::Domain).unwrap();
            assert!(has(r, K::Ipv4, "198.51.100.7"));
            assert_eq!(r.data["dst_port"], 443);
            (d.value.clone(), r.timestamp)
        })
        .collect()
}

#[test]
fn rfc9001_appendix_a2_client_initial_gives_its_server_name() {
    let packet = rfc9001_client_initial();
    assert_eq!(packet.len(), 1200);
    let f = capture("rfc9001.pcap", std::slice::from_ref(&packet));
    assert_eq!(quic_names(&f), [("example.com".to_string(), Some(T0))]);

    // One flipped bit anywhere in the protected payload fails authentication.
    let mut bad = packet.clone();
    bad[600] ^= 0x01;
    // A server Initial (other keys), a short-header packet and truncations give nothing.
    let mut short = packet.clone();
    short[0] = 0x40;
    let f = capture(
        "rfc9001-bad.pcap",
        &[bad, short, packet[..1199].to_vec(), packet[..30].to_vec()],
    );
    assert_eq!(quic_names(&f), []);
}

#[test]
fn client_hello_over_several_initial_packets_is_reassembled() {
    let mut datagrams = synth::quic_client_initials(b"\x11\x22\x33\x44", "cdn.weather4free.com", 3);
    // Another connection's Initial in between.
    let other = synth::quic_client_initials(b"\x99\x88", "example.org", 1);
    datagrams.insert(1, other[0].clone());
    let f = capture("split.pcap", &datagrams);
    let names: Vec<String> = quic_names(&f).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["example.org", "cdn.weather4free.com"]);
}
