//! A criterion measurement of the CPU time of the benchmark's thread.
//!
//! The server and the client run on one current-thread tokio runtime, on that thread, so its
//! CPU time (user and system, including the kernel's loopback TCP work done in its
//! syscalls) is the cost of the whole exchange. On an idle machine it equals the wall time;
//! unlike the wall time it does not grow when other processes compete for the cores. The
//! wall time is kept too, so the benchmark can report how much of it was spent on the CPU.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::measurement::{Measurement, ValueFormatter, WallTime};

/// CPU time of the calling thread, or `None` where it cannot be read.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
pub fn thread_cpu() -> Option<Duration> {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable `struct timespec` (two 64-bit fields on 64-bit
    // Linux), and the clock id is a constant the kernel knows.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// CPU time of the calling thread, or `None` where it cannot be read.
#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
pub fn thread_cpu() -> Option<Duration> {
    None
}

static CPU_NS: AtomicU64 = AtomicU64::new(0);
static WALL_NS: AtomicU64 = AtomicU64::new(0);
static FORMATTER: WallTime = WallTime;

/// Thread CPU time (falls back to wall time where it cannot be read).
pub struct ThreadCpu;

impl ThreadCpu {
    /// Starts counting CPU and wall time afresh (see [`ThreadCpu::utilisation`]).
    pub fn reset_totals() {
        CPU_NS.store(0, Ordering::Relaxed);
        WALL_NS.store(0, Ordering::Relaxed);
    }

    /// CPU time over wall time of everything measured since the last reset (`None` when
    /// nothing was: every benchmark filtered out).
    pub fn utilisation() -> Option<f64> {
        let wall = WALL_NS.load(Ordering::Relaxed);
        (wall > 0).then(|| CPU_NS.load(Ordering::Relaxed) as f64 / wall as f64)
    }
}

impl Measurement for ThreadCpu {
    type Intermediate = (Instant, Option<Duration>);
    type Value = Duration;

    fn start(&self) -> Self::Intermediate {
        (Instant::now(), thread_cpu())
    }

    fn end(&self, (wall_start, cpu_start): Self::Intermediate) -> Duration {
        let cpu = thread_cpu().zip(cpu_start).map(|(end, start)| end - start);
        let wall = wall_start.elapsed();
        let cpu = cpu.unwrap_or(wall);
        CPU_NS.fetch_add(cpu.as_nanos() as u64, Ordering::Relaxed);
        WALL_NS.fetch_add(wall.as_nanos() as u64, Ordering::Relaxed);
        cpu
    }

    fn add(&self, v1: &Duration, v2: &Duration) -> Duration {
        *v1 + *v2
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        // Nanoseconds, like the wall clock: reuse its formatting.
        FORMATTER.formatter()
    }
}
