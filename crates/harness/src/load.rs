//! A constant load for traffic tests: `concurrency` workers each sending GET requests back to back, recording
//! every outcome with the time its request was sent, so a test can ask what share of requests started after some
//! moment (e.g. after a traffic change returned) went where, and whether any failed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request and what came of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// When the request was sent, in ms since the loop started.
    pub at_ms: u64,
    /// The response body (trimmed) of a 2xx answer; otherwise the error or the status and body.
    pub outcome: Result<String, String>,
}

/// A running load; stop it to get the report.
pub struct LoadLoop {
    started: Instant,
    samples: Arc<Mutex<Vec<Sample>>>,
    stopping: Arc<AtomicBool>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

/// Everything a stopped loop recorded.
#[derive(Debug, Clone)]
pub struct LoadReport {
    pub total: usize,
    pub failed: Vec<Sample>,
    pub samples: Vec<Sample>,
}

impl LoadLoop {
    /// Starts the workers at once (inside a tokio runtime). Each request times out after 5 s.
    pub fn start(url: String, concurrency: usize) -> LoadLoop {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("reqwest client");
        let started = Instant::now();
        let samples = Arc::new(Mutex::new(Vec::new()));
        let stopping = Arc::new(AtomicBool::new(false));
        let workers = (0..concurrency.max(1))
            .map(|_| {
                let (http, url, samples, stopping) = (http.clone(), url.clone(), samples.clone(), stopping.clone());
                tokio::spawn(async move {
                    while !stopping.load(Ordering::SeqCst) {
                        let at_ms = started.elapsed().as_millis() as u64;
                        let outcome = request(&http, &url).await;
                        samples.lock().expect("samples lock").push(Sample { at_ms, outcome });
                    }
                })
            })
            .collect();
        LoadLoop { started, samples, stopping, workers }
    }

    /// Milliseconds since the loop started, on the clock of [`Sample::at_ms`].
    pub fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// What has been recorded so far (in completion order).
    pub fn samples(&self) -> Vec<Sample> {
        self.samples.lock().expect("samples lock").clone()
    }

    /// Waits (at most 20 s) until more than `count` requests were sent after `at_ms`, so a report covers what came
    /// after some event, not just the event.
    pub async fn run_past(&self, at_ms: u64, count: usize) {
        crate::wait_for(&format!("{count} requests after {at_ms} ms"), Duration::from_secs(20), || {
            let n = self.samples.lock().expect("samples lock").iter().filter(|sample| sample.at_ms > at_ms).count();
            async move { (n > count).then_some(()) }
        })
        .await;
    }

    /// When the first request answered with `body` was sent, if one was.
    pub fn first_answer(&self, body: &str) -> Option<u64> {
        let samples = self.samples.lock().expect("samples lock");
        samples.iter().filter(|sample| sample.outcome.as_deref() == Ok(body)).map(|sample| sample.at_ms).min()
    }

    /// Lets every worker finish its request in flight, then reports.
    pub async fn stop(self) -> LoadReport {
        self.stopping.store(true, Ordering::SeqCst);
        for worker in self.workers {
            worker.await.expect("load worker panicked");
        }
        let mut samples = self.samples.lock().expect("samples lock").clone();
        samples.sort_by_key(|sample| sample.at_ms);
        let failed = samples.iter().filter(|sample| sample.outcome.is_err()).cloned().collect();
        LoadReport { total: samples.len(), failed, samples }
    }
}

impl LoadReport {
    /// When the first (`last` false) or last request answered with `body` was sent.
    pub fn answered(&self, body: &str, last: bool) -> Option<u64> {
        let times =
            self.samples.iter().filter(|sample| sample.outcome.as_deref() == Ok(body)).map(|sample| sample.at_ms);
        if last { times.max() } else { times.min() }
    }

    /// Of the successful responses to requests sent in `[from_ms, to_ms)`, the fraction whose body is `body`; None
    /// when there is none.
    pub fn share(&self, body: &str, from_ms: u64, to_ms: u64) -> Option<f64> {
        let window = self.samples.iter().filter(|sample| (from_ms..to_ms).contains(&sample.at_ms));
        let answers: Vec<&String> = window.filter_map(|sample| sample.outcome.as_ref().ok()).collect();
        if answers.is_empty() {
            return None;
        }
        let matching = answers.iter().filter(|answer| answer.as_str() == body).count();
        Some(matching as f64 / answers.len() as f64)
    }
}

async fn request(http: &reqwest::Client, url: &str) -> Result<String, String> {
    let response = http.get(url).send().await.map_err(|error| format!("{error:?}"))?;
    let status = response.status();
    let body = response.text().await.map_err(|error| format!("reading the body: {error:?}"))?;
    if !status.is_success() {
        return Err(format!("{status}: {}", body.trim()));
    }
    Ok(body.trim().to_owned())
}
