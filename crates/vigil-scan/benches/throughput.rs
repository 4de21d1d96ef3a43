//! Scan throughput on generated inputs, with 1,000,000 domain indicators.
//!
//! `cargo bench -p vigil-scan --bench throughput` writes a seeded DNS-server
//! log (about 512 MiB) and a pcap (about 256 MiB of TCP connections — DNS,
//! TLS and HTTP requests, then bulk data — and DNS over UDP) under
//! `target/bench-data/scan/`, loads 1,000,000 domain indicators, and prints,
//! for the text log and the capture, on one thread and on all cores: the wall
//! time, the CPU time the process consumed, and throughput per wall second
//! and per CPU second (the machine may be shared; CPU seconds are what "per
//! core" means). Every 100,000th log line and every 1,000th capture
//! connection names an indicator's subdomain; the number found is printed.
//! The inputs are seeded and written once, then reused; the speed-up of all
//! cores over one is printed with the load average (other processes on the
//! machine slow the wall clock, not the CPU time). `VIGIL_BENCH_SKIP=grep,pcap`
//! leaves out the peer or the capture runs.
//!
//! The peer for text logs is GNU `grep -F -c -f` over the same 1,000,000
//! domains and the same log, run in the same process's benchmark, its CPU
//! time taken from the shell's `times`. It is a fair but generous peer: a
//! fixed-string search that finds substrings (it would also report
//! `notevil.com` for `evil.com`) and does no parsing. MVT has no module for
//! text logs or captures, so there is no MVT ratio here.

use std::io::Write;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use vigil_artefact::Module;
use vigil_iocs::{load_bytes, Matcher};
use vigil_netlog::synth::{self, Rng};
use vigil_netlog::{Options, PcapModule, TextLogModule};

/// Every this many log lines, one names an indicator.
const PLANT_EVERY: u64 = 100_000;
/// Every this many capture connections, one names an indicator.
const PLANT_EVERY_CONNECTION: u64 = 1_000;

fn indicator_domains() -> Vec<String> {
    let mut rng = Rng(7);
    (0..1_000_000)
        .map(|i| format!("{}{i}.com", rng.word(8)))
        .collect()
}

fn matcher(domains: &[String]) -> Matcher {
    let mut s = String::from("# spyware: BenchSpy\n");
    for d in domains {
        s.push_str(d);
        s.push('\n');
    }
    let set = load_bytes(Path::new("bench-1m.txt"), s.as_bytes()).expect("indicators");
    Matcher::new(vec![set])
}

fn write_log(path: &Path, bytes: usize, domains: &[String]) -> u64 {
    let mut rng = Rng(11);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("log"));
    let mut written = 0;
    let mut n = 0u64;
    let mut planted = 0;
    while written < bytes {
        n += 1;
        let name = if n % PLANT_EVERY == 0 {
            planted += 1;
            format!(
                "cdn.{}",
                domains[(n / PLANT_EVERY) as usize % domains.len()]
            )
        } else {
            format!("{}.{}.net", rng.word(5), rng.word(9))
        };
        let line = format!(
            "2024-03-01T10:{:02}:{:02}.{:03}Z dnsmasq[812]: query[A] {name} from 192.168.{}.{}\n",
            (n / 60) % 60,
            n % 60,
            n % 1000,
            n % 250,
            (n * 7) % 250
        );
        written += line.len();
        out.write_all(line.as_bytes()).expect("write");
    }
    planted
}

/// Connections as a capture holds them: a DNS lookup over UDP, then a TLS or
/// plain-HTTP connection (handshake, request, bulk data, close).
fn write_pcap(path: &Path, bytes: usize, domains: &[String]) -> u64 {
    let mut rng = Rng(13);
    let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
    let (c, r) = (ip("192.168.1.20"), ip("192.168.1.1"));
    let mut p = synth::Pcap::new();
    let mut t = 1_700_000_000_000_000i64;
    let filler = vec![0u8; 1400];
    let mut n = 0u64;
    let mut planted = 0;
    while p.len() < bytes {
        n += 1;
        let name = if n % PLANT_EVERY_CONNECTION == 0 {
            planted += 1;
            format!(
                "api.{}",
                domains[(n / PLANT_EVERY_CONNECTION) as usize % domains.len()]
            )
        } else {
            format!("{}.{}.org", rng.word(6), rng.word(8))
        };
        let server = IpAddr::from([198, 51, (n >> 8) as u8, n as u8]);
        let port = 1024 + (n % 60_000) as u16;
        t += 1000;
        p.packet(t, &synth::udp(c, r, port, 53, &synth::dns_query(1, &name)));
        let (dport, request) = if n % 4 == 0 {
            (80, synth::http_get(&name, "/index.html"))
        } else {
            (443, synth::tls_client_hello(&name))
        };
        let seg = |from_client: bool, seq: u32, flags: u8, data: &[u8]| {
            if from_client {
                synth::tcp_segment(c, server, port, dport, seq, flags, data)
            } else {
                synth::tcp_segment(server, c, dport, port, seq, flags, data)
            }
        };
        p.packet(t + 1, &seg(true, 100, synth::SYN, &[]));
        p.packet(t + 2, &seg(false, 500, synth::SYN | synth::ACK, &[]));
        p.packet(t + 3, &seg(true, 101, synth::PSH_ACK, &request));
        let mut sseq = 501u32;
        for k in 0..8 {
            p.packet(t + 4 + k, &seg(false, sseq, synth::PSH_ACK, &filler));
            sseq += filler.len() as u32;
        }
        let cseq = 101 + request.len() as u32;
        p.packet(t + 20, &seg(true, cseq, synth::FIN | synth::ACK, &[]));
        p.packet(t + 21, &seg(false, sseq, synth::FIN | synth::ACK, &[]));
    }
    std::fs::write(path, p.into_bytes()).expect("pcap");
    planted
}

/// Runs a module; returns wall seconds, CPU seconds, records emitted and records checked.
fn time_module(m: &dyn Module) -> (f64, f64, u64, u64) {
    let (t, c) = (Instant::now(), vigil_testkit::own_cpu_secs());
    let mut emitted = 0u64;
    let s = m.run(&mut |_| emitted += 1).expect("module runs");
    (
        t.elapsed().as_secs_f64(),
        vigil_testkit::own_cpu_secs() - c,
        emitted,
        s.records,
    )
}

/// Runs `grep -F -c -f` and returns wall seconds, children's CPU seconds, and its count.
fn grep_peer(patterns: &Path, log: &Path) -> Option<(f64, f64, String)> {
    let script = format!(
        "LC_ALL=C grep -F -c -f '{}' '{}'; times",
        patterns.display(),
        log.display()
    );
    let t = Instant::now();
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .ok()?;
    let wall = t.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let count = lines.next()?.trim().to_string();
    // `times`: the shell's user and system time, then its children's ("0m1.230s 0m0.120s").
    let children = lines.nth(1)?;
    let secs = |v: &str| -> Option<f64> {
        let (m, s) = v.trim_end_matches('s').split_once('m')?;
        Some(m.parse::<f64>().ok()? * 60.0 + s.parse::<f64>().ok()?)
    };
    let cpu: f64 = children.split_whitespace().filter_map(secs).sum();
    Some((wall, cpu, count))
}

fn main() {
    let dir = vigil_testkit::workspace_root().join("target/bench-data/scan");
    std::fs::create_dir_all(&dir).expect("dir");
    let domains = indicator_domains();
    let (log, pcap) = (dir.join("dns-v2.log"), dir.join("capture-v2.pcap"));
    let patterns = dir.join("domains-1m.txt");
    // The inputs are seeded: once written (the counts file is written last), they are reused.
    let counts = dir.join("planted-v2.txt");
    let t = Instant::now();
    let reused = std::fs::read_to_string(&counts).ok().and_then(|s| {
        let (a, b) = s.trim().split_once(' ')?;
        Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?))
    });
    let (planted_log, planted_pcap) = match reused {
        Some(c) if log.exists() && pcap.exists() && patterns.exists() => c,
        _ => {
            let planted_log = write_log(&log, 512 << 20, &domains);
            let planted_pcap = write_pcap(&pcap, 256 << 20, &domains);
            std::fs::write(&patterns, domains.join("\n") + "\n").expect("patterns");
            std::fs::write(&counts, format!("{planted_log} {planted_pcap}\n")).expect("counts");
            (planted_log, planted_pcap)
        }
    };
    println!(
        "inputs ready in {:.1} s ({planted_log} planted log lines, {planted_pcap} planted connections)",
        t.elapsed().as_secs_f64()
    );
    // VIGIL_BENCH_SKIP=grep,pcap leaves out the slow peer or the capture runs.
    let skip = std::env::var("VIGIL_BENCH_SKIP").unwrap_or_default();
    let t = Instant::now();
    let matcher = Arc::new(matcher(&domains));
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
    let mut ours_per_cpu = 0.0;
    let mut runs = Vec::new();
    for threads in [1, cores] {
        let m = TextLogModule::new(
            log.clone(),
            Options {
                filter: Some(filter.clone()),
                threads,
            },
        );
        let (wall, cpu, found, lines) = time_module(&m);
        let size = mb(&log);
        println!(
            "text log, {threads} thread(s): {size:.0} MB, {lines} lines, {found} lines with an indicator; \
             wall {wall:.2} s = {:.0} MB/s; CPU {cpu:.2} s = {:.0} MB per CPU-second",
            size / wall,
            size / cpu.max(0.01)
        );
        if threads == 1 {
            ours_per_cpu = size / cpu.max(0.01);
        }
        runs.push((wall, cpu));
    }
    speed_up("text log", cores, &runs);
    match (!skip.contains("grep"))
        .then(|| grep_peer(&patterns, &log))
        .flatten()
    {
        Some((wall, cpu, count)) => {
            let size = mb(&log);
            let per_cpu = size / cpu.max(0.01);
            println!(
                "peer `grep -F -c -f` (1,000,000 fixed strings): {count} lines; wall {wall:.2} s = {:.0} MB/s; \
                 CPU {cpu:.2} s = {per_cpu:.0} MB per CPU-second; vigil (1 thread) / grep per CPU-second = {:.1}x",
                size / wall,
                ours_per_cpu / per_cpu
            );
        }
        None => println!("peer `grep` not run"),
    }
    let mut runs = Vec::new();
    for threads in [1, cores] {
        if skip.contains("pcap") {
            break;
        }
        let m = PcapModule::new(
            pcap.clone(),
            Options {
                filter: Some(filter.clone()),
                threads,
            },
        );
        let (wall, cpu, found, packets) = time_module(&m);
        let size = mb(&pcap);
        println!(
            "pcap, {threads} thread(s): {size:.0} MB, {packets} packets, {found} records with an indicator; \
             wall {wall:.2} s = {:.2} Gbit/s; CPU {cpu:.2} s = {:.2} Gbit per CPU-second",
            size * 8.0 / 1000.0 / wall,
            size * 8.0 / 1000.0 / cpu.max(0.01)
        );
        runs.push((wall, cpu));
    }
    speed_up("pcap", cores, &runs);
}

/// Prints how much faster the run on all cores was than the run on one, and what it cost in CPU time.
fn speed_up(what: &str, cores: usize, runs: &[(f64, f64)]) {
    if let [(w1, c1), (wn, cn)] = runs {
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        println!(
            "{what}: {cores} threads against 1: wall-clock speed-up {:.2}x, CPU time {:.2}x that of 1 thread \
             (load average {})",
            w1 / wn.max(0.001),
            cn / c1.max(0.001),
            load.split_whitespace().next().unwrap_or("?")
        );
    }
}
