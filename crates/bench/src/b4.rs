//! B4 — the bundle path: download + verify + extract, by the real agent and by the GNU tools, from the same server
//! URL.
//!
//! Bundles, written under the scratch directory (under `target/`) and deleted afterwards:
//! (a) a `tar` holding one 1 GB file of incompressible pseudo-random bytes;
//! (b) a `tgz` holding 50 000 files of 4 KiB (text, 100 directories), gzip level 6.
//! Each also holds a minimal `appspec.yml` (no files, no hooks), so Install and the hooks do nothing.
//!
//! Cutover: the agent's DownloadBundle event (prune, download with the sha256 computed on the fly, fsync, validate
//! every entry, extract, rename into place), timed by the event's server timestamps. Each repetition deploys to a
//! fresh deployment group, so no old revision is pruned inside the measured event.
//! Peer: `curl -s --aws-sigv4 … URL -o file && sha256sum file && tar -xf file -C dir` into a fresh directory (the same
//! bytes through the S3 endpoint, signed with the admin key), wall time. Runs
//! alternate (peer, Cutover, peer, …, after a `sync` each); the median of each is reported, and the ratio is the
//! median of the per-pair ratios.

use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;

use crate::common::{self, Options};
use crate::report::{Report, Row, mb, ms, quantile, sig, times_better};
use crate::sim::splitmix;
use crate::sys;

const GOAL_BIG: f64 = 1.0;
const GOAL_SMALL: f64 = 1.5;
const APPSPEC: &str = "version: 0.0\nos: linux\n";

/// One bundle shape.
struct Shape {
    label: &'static str,
    bundle_type: &'static str,
    bytes: u64,
    files: usize,
}

pub(crate) async fn run(options: &Options, report: &mut Report) -> anyhow::Result<()> {
    let (big_bytes, small_files, reps) = if options.smoke { (16_000_000, 500, 1) } else { (1_000_000_000, 50_000, 5) };
    let dir = options.scratch.join("b4");
    common::remove_dir(&dir);
    std::fs::create_dir_all(&dir)?;
    // Bundle, server blob, agent download, agent extraction, peer download, peer extraction, twice over for the
    // kept revisions of the big file.
    let needed = big_bytes * 8 + 2_000_000_000;
    if let Some(free) = sys::free_space(&dir)
        && free < needed
    {
        report.row(Row::new(
            "B4",
            "bundle path",
            format!("not measured: needs {} free under {}, has {}", mb(needed), dir.display(), mb(free)),
        ));
        return Ok(());
    }
    eprintln!(
        "B4: bundle path, (a) one {} file (tar), (b) {small_files} files of 4 KiB (tgz), {reps} runs each",
        mb(big_bytes)
    );
    let result = measure(options, report, &dir, big_bytes, small_files, reps).await;
    common::remove_dir(&dir);
    result
}

async fn measure(
    options: &Options,
    report: &mut Report,
    dir: &Path,
    big_bytes: u64,
    small_files: usize,
    reps: usize,
) -> anyhow::Result<()> {
    let big_path = dir.join("big.tar");
    let small_path = dir.join("small.tgz");
    let started = std::time::Instant::now();
    write_big_tar(&big_path, big_bytes)?;
    write_small_tgz(&small_path, small_files)?;
    eprintln!("  bundles written in {:.1} s", started.elapsed().as_secs_f64());
    let shapes = [
        (
            Shape {
                label: "(a) one big file, tar",
                bundle_type: "tar",
                bytes: std::fs::metadata(&big_path)?.len(),
                files: 1,
            },
            big_path,
        ),
        (
            Shape {
                label: "(b) small files, tgz",
                bundle_type: "tgz",
                bytes: std::fs::metadata(&small_path)?.len(),
                files: small_files,
            },
            small_path,
        ),
    ];

    let cluster = common::start_cluster(options, 1).await?;
    common::create_application(&cluster.client, "b4").await?;
    let timeout = Duration::from_secs(if options.smoke { 60 } else { 600 });
    for (shape_idx, (shape, path)) in shapes.iter().enumerate() {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let revision = common::push(
            &cluster,
            "b4",
            &format!("b4/{}", path.file_name().and_then(|n| n.to_str()).unwrap_or("bundle")),
            bytes,
            shape.bundle_type,
        )
        .await?;
        // The peer reads the same bytes through the S3 endpoint, signed by curl (`--aws-sigv4`) with the admin key.
        let url = format!(
            "{}/cutover-revisions/{}",
            cluster.endpoint,
            revision["s3Location"]["key"].as_str().unwrap_or_default()
        );
        let admin = cutover_harness::admin_credentials(&cluster.server.data_dir);
        let user = format!("{}:{}", admin.access_key_id, admin.secret_access_key);
        let mut cutover_ms = Vec::new();
        let mut peer_ms = Vec::new();
        let mut whole_ms = Vec::new();
        let mut install_ms = Vec::new();
        let mut peer_stages = Vec::new();
        let mut cutover_stages = Vec::new();
        for rep in 0..reps {
            // Start each run with no dirty pages left by the previous one (the agent fsyncs its download; the
            // GNU pipeline does not).
            nix::unistd::sync();
            let (wall, stages) = gnu_peer(dir, &url, &user)?;
            nix::unistd::sync();
            peer_ms.push(wall);
            peer_stages.push(stages);
            let group = format!("g{shape_idx}-{rep}");
            common::create_group(&cluster.client, "b4", &group, "CodeDeployDefault.AllAtOnce", ("env", "test")).await?;
            let done =
                common::deploy_and_wait(&cluster.client, "b4", &group, &revision, Duration::from_millis(20), timeout)
                    .await?;
            if !done.succeeded() {
                report.fail(format!("B4 {}: {}", shape.label, done.failure()));
                return Ok(());
            }
            let events = common::events(&cluster.client, &done.id, "host-1").await?;
            let event =
                |name: &str| events.iter().find(|event| event.name == name).map(|event| event.end_ms - event.start_ms);
            let download = event("DownloadBundle").context("no DownloadBundle event")?;
            cutover_ms.push(download);
            install_ms.push(event("Install").unwrap_or(f64::NAN));
            whole_ms.push(done.server_ms);
            if let Some(stages) = agent_stages(&cluster.agents[0].root, &done.id) {
                cutover_stages.push(stages);
            }
            eprintln!("  {} run {}: GNU {:.0} ms, DownloadBundle {download:.0} ms", shape.label, rep + 1, peer_ms[rep]);
        }
        let cutover = quantile(&cutover_ms, 0.5);
        let peer = quantile(&peer_ms, 0.5);
        // Each Cutover run follows its peer run, so the two see the same background load: the ratio is the median
        // of the per-pair ratios, which is steadier on a shared machine than the ratio of the medians.
        let pair_ratios: Vec<f64> =
            peer_ms.iter().zip(&cutover_ms).filter_map(|(peer, cutover)| times_better(*peer, *cutover)).collect();
        let ratio = (!pair_ratios.is_empty()).then(|| quantile(&pair_ratios, 0.5));
        let (goal, goal_text) =
            if shape.files == 1 { (GOAL_BIG, "≥ 1.0× GNU") } else { (GOAL_SMALL, "≥ 1.5× GNU") };
        let rate = |millis: f64| {
            let seconds = millis / 1000.0;
            if shape.files == 1 {
                format!("{} MB/s ({})", sig(shape.bytes as f64 / 1e6 / seconds), ms(millis))
            } else {
                format!(
                    "{} files/s, {} MB/s ({})",
                    sig(shape.files as f64 / seconds),
                    sig(shape.bytes as f64 / 1e6 / seconds),
                    ms(millis)
                )
            }
        };
        let runs = if reps > 1 { format!(", median of {reps}") } else { String::new() };
        report.row(
            Row::new("B4", format!("{}, {}{runs}", shape.label, mb(shape.bytes)), rate(cutover))
                .peer(format!("GNU {}", rate(peer)))
                .ratio(ratio)
                .goal(goal_text, ratio.is_some_and(|r| r >= goal)),
        );
        let median = |values: Vec<f64>| sig(quantile(&values, 0.5));
        report.note(format!(
            "B4 {}: DownloadBundle {:?} ms (median split: download + sha256 + fsync {} ms, validate + extract + rename {} ms), \
             GNU {:?} ms (median split: curl {} ms, sha256sum {} ms, tar {} ms); Install {:?} ms; whole deployment {:?} ms",
            shape.label,
            rounded(&cutover_ms),
            median(cutover_stages.iter().map(|s| s.0).collect()),
            median(cutover_stages.iter().map(|s| s.1).collect()),
            rounded(&peer_ms),
            median(peer_stages.iter().map(|s| s[0]).collect()),
            median(peer_stages.iter().map(|s| s[1]).collect()),
            median(peer_stages.iter().map(|s| s[2]).collect()),
            rounded(&install_ms),
            rounded(&whole_ms)
        ));
    }
    if let Some(summary) = common::log_summary(&cluster.server.log) {
        report.note(format!("B4 server log: {summary}"));
    }
    Ok(())
}

fn rounded(values: &[f64]) -> Vec<i64> {
    values.iter().map(|value| value.round() as i64).collect()
}

/// The GNU pipeline into a fresh directory: its wall time and its stages (curl, sha256sum, tar) in ms, timed with
/// bash's `$EPOCHREALTIME` (no extra process).
fn gnu_peer(dir: &Path, url: &str, user: &str) -> anyhow::Result<(f64, [f64; 3])> {
    let work = dir.join("gnu");
    common::remove_dir(&work);
    std::fs::create_dir_all(work.join("x"))?;
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(
            "t0=$EPOCHREALTIME; curl -sf --aws-sigv4 aws:amz:us-east-1:s3 --user \"$3\" \"$1\" -o \"$2/bundle\" && t1=$EPOCHREALTIME && sha256sum \"$2/bundle\" >/dev/null \
             && t2=$EPOCHREALTIME && tar -xf \"$2/bundle\" -C \"$2/x\" && t3=$EPOCHREALTIME && echo \"$t0 $t1 $t2 $t3\"",
        )
        .arg("gnu-peer")
        .arg(url)
        .arg(&work)
        .arg(user);
    let started = std::time::Instant::now();
    let output = command.output().context("cannot run bash")?;
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(output.status.success(), "GNU peer failed: {}", String::from_utf8_lossy(&output.stderr));
    let stamps: Vec<f64> = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .filter_map(|t| t.replace(',', ".").parse().ok())
        .collect();
    let stage = |i: usize| stamps.get(i + 1).zip(stamps.get(i)).map_or(f64::NAN, |(b, a)| (b - a) * 1000.0);
    common::remove_dir(&work);
    Ok((wall_ms, [stage(0), stage(1), stage(2)]))
}

/// Download (+ on-the-fly sha256 + fsync) and validate + extract times, in ms, from the agent's deployments log
/// (`[YYYY-mm-dd HH:MM:SS.mmm] [<deployment>][agent] …` lines).
fn agent_stages(agent_root: &Path, deployment_id: &str) -> Option<(f64, f64)> {
    let text = std::fs::read_to_string(agent_root.join("deployment-logs/codedeploy-agent-deployments.log")).ok()?;
    let tag = format!("[{deployment_id}]");
    let at = |needle: &str| -> Option<f64> {
        let line = text.lines().find(|line| line.contains(&tag) && line.contains(needle))?;
        let time = line.get(12..24)?; // HH:MM:SS.mmm
        let (h, m, rest) =
            (time.get(0..2)?.parse::<f64>().ok()?, time.get(3..5)?.parse::<f64>().ok()?, time.get(6..12)?);
        Some(((h * 60.0 + m) * 60.0 + rest.parse::<f64>().ok()?) * 1000.0)
    };
    let start = at("[agent] Downloading")?;
    let downloaded = at("[agent] Downloaded")?;
    let extracted = at("[agent] Extracted")?;
    Some((downloaded - start, extracted - downloaded))
}

/// Incompressible pseudo-random bytes, `remaining` of them.
struct Noise {
    state: u64,
    remaining: u64,
}

impl Read for Noise {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let len = (buf.len() as u64).min(self.remaining) as usize;
        for chunk in buf[..len].chunks_mut(8) {
            self.state = splitmix(self.state);
            chunk.copy_from_slice(&self.state.to_le_bytes()[..chunk.len()]);
        }
        self.remaining -= len as u64;
        Ok(len)
    }
}

fn header(size: u64, mode: u32) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(mode);
    header.set_mtime(1_700_000_000);
    header.set_entry_type(tar::EntryType::Regular);
    header
}

/// (a): `appspec.yml` and one file of `bytes` pseudo-random bytes.
fn write_big_tar(path: &Path, bytes: u64) -> anyhow::Result<()> {
    let file = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut builder = tar::Builder::new(file);
    builder.append_data(&mut header(APPSPEC.len() as u64, 0o644), "appspec.yml", APPSPEC.as_bytes())?;
    builder.append_data(&mut header(bytes, 0o644), "big.bin", Noise { state: 42, remaining: bytes })?;
    builder.into_inner()?.flush()?;
    Ok(())
}

/// (b): `appspec.yml` and `files` text files of 4 KiB in 100 directories, gzip level 6.
fn write_small_tgz(path: &Path, files: usize) -> anyhow::Result<()> {
    let file = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let encoder = flate2::write::GzEncoder::new(file, flate2::Compression::new(6));
    let mut builder = tar::Builder::new(encoder);
    builder.append_data(&mut header(APPSPEC.len() as u64, 0o644), "appspec.yml", APPSPEC.as_bytes())?;
    let mut contents = Vec::with_capacity(4096);
    for idx in 0..files {
        contents.clear();
        let mut line = 0;
        while contents.len() < 4096 {
            contents.extend_from_slice(
                format!("file {idx} line {line} value {:016x}\n", splitmix((idx * 64 + line) as u64) >> 40).as_bytes(),
            );
            line += 1;
        }
        contents.truncate(4096);
        let name = format!("files/d{:03}/f{idx:05}.txt", idx % 100);
        builder.append_data(&mut header(contents.len() as u64, 0o644), name, contents.as_slice())?;
    }
    builder.into_inner()?.finish()?.flush()?;
    Ok(())
}
