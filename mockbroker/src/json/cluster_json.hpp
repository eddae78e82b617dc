// The cluster's state as Boost.JSON values: what the HTTP control API
// answers with and what the request log stream sends. Built as values (never
// by concatenating text) and serialized once, at the edge.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>

#include "kwire/mockbroker/cluster.hpp"

namespace kwire::mockbroker {

// Each function reads only what it is given; thread-compatible, as the cluster.

/// id, host, port, rack (or null), up, latency_ms.
boost::json::object broker_value(const broker_info& b);
/// topic, partition, leader, leader_epoch, replicas, isr, log_start_offset,
/// high_watermark, batch_count, size_in_bytes.
boost::json::object partition_value(const partition_info& p);
/// name, id (base64url, or null), partitions (each as partition_value).
boost::json::object topic_value(const cluster& c, const std::string& name);
/// id, rule (in the format of fault_json.hpp), matched, fired.
boost::json::object rule_status_value(const rule_status& s);
/// offset, timestamp, key, value, headers [{key, value}], producer_id,
/// producer_epoch, sequence. Keys and values print as the decoder prints them.
boost::json::object record_value(const stored_record& r);
/// group_id, state, protocol_type, coordinator.
boost::json::object group_listing_value(const group_listing& g);
/// group_id, state, protocol_type, protocol, generation, leader,
/// coordinator, members [{member_id, group_instance_id, client_id,
/// client_host, session_timeout_ms, rebalance_timeout_ms, metadata,
/// assignment}] and offsets [{topic, partition, offset, metadata,
/// leader_epoch, log_end_offset, lag}]; for the "consumer" protocol type,
/// metadata and assignment are decoded (subscription: {topics}; assignment:
/// [{topic, partitions}]; {undecodable: why} when a client sent garbage),
/// else bytes as record_value prints them. Lag is
/// the partition's log end minus the committed offset (null for a partition
/// that no longer exists).
boost::json::object group_value(const cluster& c, const group_info& g);
/// One request log entry; see control_api::request_log_entry_json.
boost::json::object request_log_entry_value(const logged_request& e, bool payloads);

}  // namespace kwire::mockbroker
