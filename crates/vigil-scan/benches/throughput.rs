//! Scan throughput on generated inputs, with 1,000,000 domain indicators.
//!
//! `cargo bench -p vigil-scan --bench throughput` writes a seeded DNS-server
//! log (about 512 MiB) and a pcap (about 256 MiB of DNS, TLS and HTTP
//! packets) under `target/bench-data/scan/`, loads 1,000,000 domain
//! indicators, and prints MB/s for the text log on one thread and on all
//! cores, and Gbit/s for the capture on one core. The peer tool (MVT) reads
//! neither format, so there is no side-by-side ratio here; the indicator-load
//! ratio against MVT is printed by `cargo bench -p vigil-iocs --bench load`.

use std::io::Write;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use vigil_artefact::Module;
use vigil_iocs::{load_bytes, Matcher};
use vigil_netlog::synth::Rng;
use vigil_netlog::{synth, Options, PcapModule, TextLogModule};

fn indicators() -> Matcher {
    let mut rng = Rng(7);
    let mut s = String::from("# spyware: BenchSpy\n");
    for i in 0..1_000_000 {
        s.push_str(&format!("{}{i}.com\n", rng.word(8)));
    }
    let set = load_bytes(Path::new("bench-1m.txt"), s.as_bytes()).expect("indicators");
    Matcher::new(vec![set])
}

fn write_log(path: &Path, bytes: usize) {
    let mut rng = Rng(11);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("log"));
    let mut written = 0;
    let mut n = 0u64;
    while written < bytes {
        n += 1;
        let line = format!(
            "2024-03-01T10:{:02}:{:02}.{:03}Z dnsmasq[812]: query[A] {}.{}.net from 192.168.{}.{}\n",
            (n / 60) % 60,
            n % 60,
            n % 1000,
            rng.word(5),
            rng.word(9),
            n % 250,
            (n * 7) % 250
        );
        written += line.len();
        out.write_all(line.as_bytes()).expect("write");
    }
}

fn write_pcap(path: &Path, bytes: usize) {
    let mut rng = Rng(13);
    let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
    let (c, r, w) = (ip("192.168.1.20"), ip("192.168.1.1"), ip("198.51.100.7"));
    let mut p = synth::Pcap::new();
    let mut t = 1_700_000_000_000_000i64;
    let filler = vec![0u8; 1200];
    while p.len() < bytes {
        let name = format!("{}.{}.org", rng.word(6), rng.word(8));
        t += 1000;
        p.packet(t, &synth::udp(c, r, 40000, 53, &synth::dns_query(1, &name)));
        p.packet(
            t + 1,
            &synth::tcp(c, w, 40001, 443, &synth::tls_client_hello(&name)),
        );
        p.packet(
            t + 2,
            &synth::tcp(c, w, 40002, 80, &synth::http_get(&name, "/index.html")),
        );
        // Bulk data, as most of a real capture is.
        for _ in 0..6 {
            p.packet(t + 3, &synth::tcp(w, c, 443, 40001, &filler));
        }
    }
    std::fs::write(path, p.into_bytes()).expect("pcap");
}

fn time_module(m: &dyn Module) -> (f64, u64) {
    let t = Instant::now();
    let mut n = 0u64;
    let s = m.run(&mut |_| n += 1).expect("module runs");
    (t.elapsed().as_secs_f64(), s.records)
}

fn main() {
    let dir = vigil_testkit::workspace_root().join("target/bench-data/scan");
    std::fs::create_dir_all(&dir).expect("dir");
    let (log, pcap) = (dir.join("dns.log"), dir.join("capture.pcap"));
    if !log.exists() {
        write_log(&log, 512 << 20);
        write_pcap(&pcap, 256 << 20);
    }
    let t = Instant::now();
    let matcher = Arc::new(indicators());
    println!(
        "1,000,000 domain indicators loaded in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mb = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.len() as f64 / 1e6)
            .unwrap_or(0.0)
    };
    let filter = vigil_scan::netlog_filter(matcher.clone());
    for threads in [1, cores] {
        let m = TextLogModule::new(
            log.clone(),
            Options {
                filter: Some(filter.clone()),
                threads,
            },
        );
        let (secs, lines) = time_module(&m);
        println!(
            "text log, {threads} thread(s): {:.0} MB in {secs:.2} s = {:.0} MB/s ({lines} lines)",
            mb(&log),
            mb(&log) / secs
        );
    }
    let m = PcapModule::new(
        pcap.clone(),
        Options {
            filter: Some(filter),
            threads: 1,
        },
    );
    let (secs, packets) = time_module(&m);
    println!(
        "pcap, 1 core: {:.0} MB in {secs:.2} s = {:.2} Gbit/s ({packets} packets)",
        mb(&pcap),
        mb(&pcap) * 8.0 / 1000.0 / secs
    );
}
