// Clang thread-safety annotations and a mutex the analysis understands.
//
// A field written `T x_ GUARDED_BY(mu_);` may be touched only while mu_ is held, and a method
// declared `void FooLocked() REQUIRES(mu_);` may be called only with mu_ held. Clang checks both
// with -Wthread-safety (scripts/check-thread-safety.sh, CTest thread_safety_check); under GCC the
// macros expand to nothing and the code compiles as if they were comments.
//
// std::mutex and std::lock_guard carry no annotations in libstdc++, so annotated classes use
// Mutex, MutexLock and CondVar (and SharedMutex with ReaderMutexLock/WriterMutexLock) from this
// header: thin wrappers over the standard types with the same cost.
//
// Thread-safety: Mutex, SharedMutex and CondVar are meant to be shared between threads; a
// MutexLock, ReaderMutexLock or WriterMutexLock belongs to the thread that made it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#if defined(__clang__)
#define STEPLINE_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define STEPLINE_THREAD_ANNOTATION(x)
#endif

// On a type: instances are a capability (a lock) named `x` in diagnostics.
#define CAPABILITY(x) STEPLINE_THREAD_ANNOTATION(capability(x))
// On a type: an RAII object that holds a capability for its lifetime.
#define SCOPED_CAPABILITY STEPLINE_THREAD_ANNOTATION(scoped_lockable)
// On a field: read and written only with the given lock held.
#define GUARDED_BY(x) STEPLINE_THREAD_ANNOTATION(guarded_by(x))
// On a pointer field: what it points to is read and written only with the lock held.
#define PT_GUARDED_BY(x) STEPLINE_THREAD_ANNOTATION(pt_guarded_by(x))
// On a function: the caller must hold the locks.
#define REQUIRES(...) STEPLINE_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// On a function: the caller must hold the locks, at least shared (for reading).
#define REQUIRES_SHARED(...) STEPLINE_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
// On a function: the caller must not hold the locks (the function takes them).
#define EXCLUDES(...) STEPLINE_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// On a function: takes the locks and returns holding them.
#define ACQUIRE(...) STEPLINE_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
// On a function: takes the locks shared and returns holding them.
#define ACQUIRE_SHARED(...) STEPLINE_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
// On a function: releases locks the caller held.
#define RELEASE(...) STEPLINE_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
// On a function: releases locks the caller held shared.
#define RELEASE_SHARED(...) STEPLINE_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
// On a function: releases locks the caller held, shared or exclusive.
#define RELEASE_GENERIC(...) STEPLINE_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
// On a function: takes the locks when it returns `result`.
#define TRY_ACQUIRE(...) STEPLINE_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// On a function: the analysis is off inside it; say why next to each use.
#define NO_THREAD_SAFETY_ANALYSIS STEPLINE_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace stepline::k8s {

class CondVar;

// A std::mutex the analysis can follow. Not recursive.
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// A std::shared_mutex the analysis can follow: many readers or one writer.
class CAPABILITY("shared mutex") SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  void ReaderLock() ACQUIRE_SHARED() { mu_.lock_shared(); }
  void ReaderUnlock() RELEASE_SHARED() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

// Holds a Mutex, or a SharedMutex exclusively (for writing), from construction to the end of
// the scope: std::lock_guard for these types.
template <typename M>
class SCOPED_CAPABILITY ExclusiveLock {
 public:
  explicit ExclusiveLock(M& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~ExclusiveLock() RELEASE() { mu_.Unlock(); }
  ExclusiveLock(const ExclusiveLock&) = delete;
  ExclusiveLock& operator=(const ExclusiveLock&) = delete;

 private:
  M& mu_;
};
using MutexLock = ExclusiveLock<Mutex>;
using WriterMutexLock = ExclusiveLock<SharedMutex>;

// Holds a SharedMutex shared (for reading) for the rest of the scope.
class SCOPED_CAPABILITY ReaderMutexLock {
 public:
  explicit ReaderMutexLock(SharedMutex& mu) ACQUIRE_SHARED(mu) : mu_(mu) { mu_.ReaderLock(); }
  ~ReaderMutexLock() RELEASE_GENERIC() { mu_.ReaderUnlock(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  SharedMutex& mu_;
};

// A condition variable waited on with a Mutex held; the waits release the Mutex while they
// block and hold it again when they return, as std::condition_variable does.
class CondVar {
 public:
  void Wait(Mutex& mu) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // still held: the caller's lock (a MutexLock) unlocks it
  }
  // Returns false when `timeout` passed without a signal (wakes may also be spurious).
  template <typename Rep, typename Period>
  bool WaitFor(Mutex& mu, std::chrono::duration<Rep, Period> timeout) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    const bool signalled = cv_.wait_for(lock, timeout) == std::cv_status::no_timeout;
    lock.release();
    return signalled;
  }
  // Returns false when `deadline` passed without a signal (wakes may also be spurious).
  template <typename Clock, typename Duration>
  bool WaitUntil(Mutex& mu, std::chrono::time_point<Clock, Duration> deadline) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    const bool signalled = cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();
    return signalled;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace stepline::k8s
