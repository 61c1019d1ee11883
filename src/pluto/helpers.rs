//! Crypto helpers (`--nhelpers`): threads that do the engine's
//! computations (`ike::compute`) so that the event loop keeps reading,
//! answering and retransmitting while Diffie-Hellman runs. The engine stays
//! single-threaded: a helper only runs [`Work::run`] on owned data and
//! sends the outcome back; the loop hands it to the engine.

use crate::ike::compute::{Computation, Outcome};
use crate::ike::crypto::ModpDh;
use mio::{Token, Waker};
use std::io;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub struct Helpers {
    /// `None` once stopping: the helpers see the channel close and exit.
    work: Option<Sender<Computation>>,
    done: Receiver<(u64, Outcome)>,
    threads: Vec<JoinHandle<()>>,
}

/// How many helpers `--nhelpers n` means on this machine.
pub fn count(n: i32) -> usize {
    match usize::try_from(n) {
        Ok(n) => n,
        // -1: one fewer than the CPUs, as Openswan's pluto did.
        Err(_) => std::thread::available_parallelism()
            .map_or(1, |c| c.get())
            .saturating_sub(1),
    }
}

impl Helpers {
    /// Starts `n` (at least one) helpers that wake the loop through
    /// `token` when an outcome is ready.
    pub fn start(n: usize, registry: &mio::Registry, token: Token) -> io::Result<Helpers> {
        let waker = Arc::new(Waker::new(registry, token)?);
        let (work_tx, work_rx) = channel::<Computation>();
        let (done_tx, done) = channel();
        let work_rx = Arc::new(Mutex::new(work_rx));
        let mut threads = Vec::new();
        for i in 0..n.max(1) {
            let (rx, tx, waker) = (work_rx.clone(), done_tx.clone(), waker.clone());
            let t = std::thread::Builder::new()
                .name(format!("pluto helper {i}"))
                .spawn(move || helper(&rx, &tx, &waker))?;
            threads.push(t);
        }
        Ok(Helpers {
            work: Some(work_tx),
            done,
            threads,
        })
    }

    pub fn submit(&self, c: Computation) {
        if let Some(tx) = &self.work {
            // A send fails only when every helper has exited (a panic
            // would abort the process first): the computation is then lost
            // and its state times out like any unanswered one.
            let _ = tx.send(c);
        }
    }

    /// The outcomes ready now.
    pub fn finished(&self) -> impl Iterator<Item = (u64, Outcome)> + '_ {
        self.done.try_iter()
    }

    /// Closes the queue and waits for the helpers to finish what they hold.
    pub fn stop(&mut self) {
        self.work = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Helpers {
    fn drop(&mut self) {
        self.stop();
    }
}

fn helper(work: &Mutex<Receiver<Computation>>, done: &Sender<(u64, Outcome)>, waker: &Waker) {
    loop {
        // The lock is held only while waiting for the next item; a
        // poisoned lock (a helper panicked: the process aborts anyway) ends
        // this one too.
        let next = match work.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(c) = next else {
            return; // the loop is stopping
        };
        let outcome = c.work.run(&ModpDh);
        if done.send((c.id, outcome)).is_err() {
            return;
        }
        let _ = waker.wake();
    }
}
