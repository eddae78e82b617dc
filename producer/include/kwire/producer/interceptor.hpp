// Producer interceptors, as Java's ProducerInterceptor: see every record as
// it is sent (and change it), and every outcome before the record's own
// callback or future.
//
// Register them in producer_config::interceptors; they run in that order.
// on_send runs on the thread that calls send(), before partitioning and
// before send() may block. on_acknowledgement runs on the producer's I/O
// thread for every reported record (and on the sending thread for a record
// refused at once), before the record's callback. Both must be safe to call
// from several threads at once if the producer is shared. An exception
// thrown by an interceptor is swallowed (Java logs it) and the record goes on.
#pragma once

#include <system_error>

namespace kwire {

struct producer_record;
struct record_metadata;

class producer_interceptor {
 public:
  virtual ~producer_interceptor() = default;

  /// May change the record (add a header, redirect it to another topic or
  /// partition, replace the value). Anything the changed record points at
  /// must stay valid until send() returns: keep it in the interceptor, e.g.
  /// in thread_local storage.
  virtual void on_send(producer_record& record) { (void)record; }

  /// The record's outcome: metadata, and an error if it failed.
  virtual void on_acknowledgement(const record_metadata& metadata, std::error_code error) {
    (void)metadata;
    (void)error;
  }
};

}  // namespace kwire
