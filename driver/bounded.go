package driver

import (
	"fmt"
	"time"
)

// minStep is the least time bounded gives a call that it starts: a lazy
// unmount, for one, answers at once but still needs to be tried.
const minStep = 100 * time.Millisecond

// bounded runs call and waits for it at most timeout (minStep at least). A
// system call cannot be cancelled, so a call that times out keeps running;
// late, if not nil, then receives its result when it finally returns (to
// undo a mount that completed after its caller gave up, and to release the
// volume). late runs exactly when bounded returns ErrTimeout.
func bounded(timeout time.Duration, call func() error, late func(error)) error {
	timeout = max(timeout, minStep)
	done := make(chan error, 1)
	go func() { done <- call() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		if late != nil {
			go func() { late(<-done) }()
		}
		return fmt.Errorf("no answer within %v: %w", timeout.Round(time.Millisecond), ErrTimeout)
	}
}

// opLock is a volume's operation lock. Unlike sync.Mutex it can be waited
// for with a deadline, and released by another goroutine: a mount(2) that
// outlives its deadline keeps the volume locked until it returns.
type opLock chan struct{}

func newOpLock() opLock { return make(opLock, 1) }

func (l opLock) lock() { l <- struct{}{} }

// lockWithin takes the lock unless that takes longer than timeout.
func (l opLock) lockWithin(timeout time.Duration) bool {
	select {
	case l <- struct{}{}:
		return true
	default:
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case l <- struct{}{}:
		return true
	case <-timer.C:
		return false
	}
}

func (l opLock) unlock() { <-l }
