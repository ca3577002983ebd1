use std::future::Future;

use crate::error::{Error, Result};

/// How many times a dump is tried when the kernel keeps flagging it
/// NLM_F_DUMP_INTR (CNI uses 5, cilium 30).
pub const MAX_DUMP_ATTEMPTS: u32 = 10;

/// Runs `attempt` until it returns a dump the kernel did not flag as
/// interrupted, at most [`MAX_DUMP_ATTEMPTS`] times.
pub(crate) async fn retry_interrupted<T, F, Fut>(what: &str, mut attempt: F) -> Result<Vec<T>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(Vec<T>, bool)>>,
{
    for _ in 0..MAX_DUMP_ATTEMPTS {
        let (items, interrupted) = attempt().await?;
        if !interrupted {
            return Ok(items);
        }
    }
    Err(Error::DumpInterrupted { what: what.to_string(), attempts: MAX_DUMP_ATTEMPTS })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(f: F) -> F::Output {
        futures::executor::block_on(f)
    }

    #[test]
    fn retries_until_clean() {
        let mut calls = 0;
        let out = block_on(retry_interrupted("dump links", || {
            calls += 1;
            let n = calls;
            async move { Ok((vec![n], n < 3)) }
        }))
        .unwrap();
        assert_eq!(out, vec![3]);
        assert_eq!(calls, 3);
    }

    #[test]
    fn gives_up_after_the_bound() {
        let mut calls = 0;
        let err = block_on(retry_interrupted::<u8, _, _>("dump links", || {
            calls += 1;
            async { Ok((vec![], true)) }
        }))
        .unwrap_err();
        assert_eq!(calls, MAX_DUMP_ATTEMPTS);
        assert!(matches!(err, Error::DumpInterrupted { attempts: MAX_DUMP_ATTEMPTS, .. }));
        assert!(err.to_string().contains("dump links"));
    }

    #[test]
    fn errors_are_not_retried() {
        let mut calls = 0;
        let err = block_on(retry_interrupted::<u8, _, _>("dump", || {
            calls += 1;
            async { Err(Error::Internal("test".into())) }
        }))
        .unwrap_err();
        assert_eq!(calls, 1);
        assert!(matches!(err, Error::Internal(_)));
    }
}
