//! The admission line on its own (paused tokio clock): slots, the bounded line, the task
//! share, live limit changes and cancelled waiters.

use std::time::Duration;

use super::*;

fn line(concurrent: usize, queued: usize) -> Arc<Admission> {
    Admission::new(Limits { concurrent, queued })
}

fn admitted(entry: Entry) -> Permit {
    match entry {
        Entry::Admitted(permit) => permit,
        _ => panic!("expected a free slot"),
    }
}

fn queued(entry: Entry) -> Queued {
    match entry {
        Entry::Queued(place) => place,
        _ => panic!("expected a place in line"),
    }
}

fn is_busy(entry: &Entry) -> bool {
    matches!(entry, Entry::Busy { .. })
}

/// Whether `place` is admitted within `wait` (paused clock: time moves only when idle).
async fn admitted_within(place: Queued, wait: Duration) -> Option<Permit> {
    tokio::time::timeout(wait, place.admitted())
        .await
        .ok()
        .flatten()
}

#[tokio::test(start_paused = true)]
async fn a_full_line_is_refused_and_a_freed_slot_goes_to_the_first_waiter() {
    let line = line(2, 1);
    let first = admitted(line.enter(Lane::Chat));
    let _second = admitted(line.enter(Lane::Chat));
    let waiting = queued(line.enter(Lane::Chat));
    let refused = line.enter(Lane::Chat);
    assert!(matches!(
        refused,
        Entry::Busy {
            in_flight: 2,
            queued: 1
        }
    ));
    assert_eq!(line.load(), (2, 1));
    let waiter = tokio::spawn(admitted_within(waiting, Duration::from_secs(60)));
    tokio::time::sleep(Duration::from_secs(3)).await;
    drop(first);
    let permit = waiter.await.unwrap().expect("the freed slot");
    assert_eq!(
        permit.waited(),
        Duration::from_secs(3),
        "time spent in line"
    );
    assert_eq!(line.load(), (2, 0));
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_waiter_leaves_the_line_at_once() {
    let line = line(1, 1);
    let running = admitted(line.enter(Lane::Chat));
    let waiting = queued(line.enter(Lane::Chat));
    let chat = tokio::spawn(async move { waiting.admitted().await.map(|_| ()) });
    tokio::task::yield_now().await;
    assert!(is_busy(&line.enter(Lane::Chat)), "the line is full");
    chat.abort();
    assert!(chat.await.unwrap_err().is_cancelled());
    assert_eq!(
        line.load(),
        (1, 0),
        "its place is free without any slot freeing"
    );
    let next = queued(line.enter(Lane::Chat));
    drop(running);
    let next = admitted_within(next, Duration::from_millis(1)).await;
    assert!(next.is_some());
    assert_eq!(line.load(), (1, 0));
    drop(next);
    assert_eq!(line.load(), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn a_grant_to_a_waiter_that_just_left_passes_to_the_next() {
    let line = line(1, 2);
    let running = admitted(line.enter(Lane::Chat));
    let leaving = queued(line.enter(Lane::Chat));
    let staying = queued(line.enter(Lane::Chat));
    drop(running); // the slot is granted to `leaving`, which never picks it up
    drop(leaving);
    let permit = admitted_within(staying, Duration::from_millis(1)).await;
    assert!(permit.is_some());
    assert_eq!(line.load(), (1, 0));
    drop(permit);
    assert_eq!(line.load(), (0, 0), "no slot leaked");
}

#[tokio::test(start_paused = true)]
async fn raising_the_limit_admits_waiters_and_lowering_it_lets_running_ones_finish() {
    let line = line(1, 10);
    let a = admitted(line.enter(Lane::Chat));
    let b = queued(line.enter(Lane::Chat));
    let c = queued(line.enter(Lane::Chat));
    line.reconfigure(Limits {
        concurrent: 3,
        queued: 10,
    });
    let b = admitted_within(b, Duration::from_millis(1)).await.unwrap();
    let c = admitted_within(c, Duration::from_millis(1)).await.unwrap();
    assert_eq!(line.load(), (3, 0));
    line.reconfigure(Limits {
        concurrent: 1,
        queued: 10,
    });
    let d = queued(line.enter(Lane::Chat));
    drop(a);
    drop(b);
    assert_eq!(
        line.load(),
        (1, 1),
        "still one running: the new limit is reached"
    );
    drop(c);
    assert!(admitted_within(d, Duration::from_millis(1)).await.is_some());
}

#[tokio::test(start_paused = true)]
async fn tasks_hold_at_most_a_quarter_of_the_slots_and_chats_pass_them() {
    let line = line(4, 10);
    let task = admitted(line.enter(Lane::Task));
    let capped_task = queued(line.enter(Lane::Task));
    let chats: Vec<Permit> = (0..3).map(|_| admitted(line.enter(Lane::Chat))).collect();
    let late_chat = queued(line.enter(Lane::Chat));
    let mut chats = chats.into_iter();
    drop(chats.next());
    // The freed slot goes to the chat behind the task that may not start yet.
    assert!(admitted_within(late_chat, Duration::from_millis(1))
        .await
        .is_some());
    drop(chats.next());
    assert_eq!(
        line.load(),
        (2, 1),
        "the second task still waits for the first"
    );
    drop(task);
    assert!(admitted_within(capped_task, Duration::from_millis(1))
        .await
        .is_some());
}

#[tokio::test(start_paused = true)]
async fn with_no_line_a_request_is_refused_as_soon_as_every_slot_is_taken() {
    let line = line(1, 0);
    let _running = admitted(line.enter(Lane::Chat));
    assert!(is_busy(&line.enter(Lane::Chat)));
    assert!(is_busy(&line.enter(Lane::Task)));
}
