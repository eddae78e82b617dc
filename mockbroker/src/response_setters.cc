// Setting top-level ErrorCode and ThrottleTimeMs on a response of any type.
// The type list is checked against all_apis() by a test; an API missing here
// would only lose its top-level error code, never crash.
#include "state.hpp"

#include <map>
#include <utility>

#include "kwire/protocol/messages.hpp"

namespace kwire::mock::detail {
namespace {

struct setters {
  bool (*error)(void*, std::int16_t);
  bool (*throttle)(void*, std::int32_t);
};

template <class T>
bool set_error(void* p, std::int16_t code) {
  auto& m = *static_cast<T*>(p);
  if constexpr (requires { m.error_code = code; }) {
    m.error_code = code;
    return true;
  } else {
    (void)m;
    return false;
  }
}

template <class T>
bool set_throttle(void* p, std::int32_t ms) {
  auto& m = *static_cast<T*>(p);
  if constexpr (requires { m.throttle_time_ms = ms; }) {
    m.throttle_time_ms = ms;
    return true;
  } else {
    (void)m;
    return false;
  }
}

const std::map<const message_ops*, setters>& table() {
  static const std::map<const message_ops*, setters> t = {
      {&add_offsets_to_txn_response::ops(), {&set_error<add_offsets_to_txn_response>, &set_throttle<add_offsets_to_txn_response>}},
      {&add_partitions_to_txn_response::ops(), {&set_error<add_partitions_to_txn_response>, &set_throttle<add_partitions_to_txn_response>}},
      {&add_raft_voter_response::ops(), {&set_error<add_raft_voter_response>, &set_throttle<add_raft_voter_response>}},
      {&allocate_producer_ids_response::ops(), {&set_error<allocate_producer_ids_response>, &set_throttle<allocate_producer_ids_response>}},
      {&alter_client_quotas_response::ops(), {&set_error<alter_client_quotas_response>, &set_throttle<alter_client_quotas_response>}},
      {&alter_configs_response::ops(), {&set_error<alter_configs_response>, &set_throttle<alter_configs_response>}},
      {&alter_partition_response::ops(), {&set_error<alter_partition_response>, &set_throttle<alter_partition_response>}},
      {&alter_partition_reassignments_response::ops(), {&set_error<alter_partition_reassignments_response>, &set_throttle<alter_partition_reassignments_response>}},
      {&alter_replica_log_dirs_response::ops(), {&set_error<alter_replica_log_dirs_response>, &set_throttle<alter_replica_log_dirs_response>}},
      {&alter_user_scram_credentials_response::ops(), {&set_error<alter_user_scram_credentials_response>, &set_throttle<alter_user_scram_credentials_response>}},
      {&api_versions_response::ops(), {&set_error<api_versions_response>, &set_throttle<api_versions_response>}},
      {&assign_replicas_to_dirs_response::ops(), {&set_error<assign_replicas_to_dirs_response>, &set_throttle<assign_replicas_to_dirs_response>}},
      {&begin_quorum_epoch_response::ops(), {&set_error<begin_quorum_epoch_response>, &set_throttle<begin_quorum_epoch_response>}},
      {&broker_heartbeat_response::ops(), {&set_error<broker_heartbeat_response>, &set_throttle<broker_heartbeat_response>}},
      {&broker_registration_response::ops(), {&set_error<broker_registration_response>, &set_throttle<broker_registration_response>}},
      {&consumer_group_describe_response::ops(), {&set_error<consumer_group_describe_response>, &set_throttle<consumer_group_describe_response>}},
      {&consumer_group_heartbeat_response::ops(), {&set_error<consumer_group_heartbeat_response>, &set_throttle<consumer_group_heartbeat_response>}},
      {&controlled_shutdown_response::ops(), {&set_error<controlled_shutdown_response>, &set_throttle<controlled_shutdown_response>}},
      {&controller_registration_response::ops(), {&set_error<controller_registration_response>, &set_throttle<controller_registration_response>}},
      {&create_acls_response::ops(), {&set_error<create_acls_response>, &set_throttle<create_acls_response>}},
      {&create_delegation_token_response::ops(), {&set_error<create_delegation_token_response>, &set_throttle<create_delegation_token_response>}},
      {&create_partitions_response::ops(), {&set_error<create_partitions_response>, &set_throttle<create_partitions_response>}},
      {&create_topics_response::ops(), {&set_error<create_topics_response>, &set_throttle<create_topics_response>}},
      {&delete_acls_response::ops(), {&set_error<delete_acls_response>, &set_throttle<delete_acls_response>}},
      {&delete_groups_response::ops(), {&set_error<delete_groups_response>, &set_throttle<delete_groups_response>}},
      {&delete_records_response::ops(), {&set_error<delete_records_response>, &set_throttle<delete_records_response>}},
      {&delete_share_group_state_response::ops(), {&set_error<delete_share_group_state_response>, &set_throttle<delete_share_group_state_response>}},
      {&delete_topics_response::ops(), {&set_error<delete_topics_response>, &set_throttle<delete_topics_response>}},
      {&describe_acls_response::ops(), {&set_error<describe_acls_response>, &set_throttle<describe_acls_response>}},
      {&describe_client_quotas_response::ops(), {&set_error<describe_client_quotas_response>, &set_throttle<describe_client_quotas_response>}},
      {&describe_cluster_response::ops(), {&set_error<describe_cluster_response>, &set_throttle<describe_cluster_response>}},
      {&describe_configs_response::ops(), {&set_error<describe_configs_response>, &set_throttle<describe_configs_response>}},
      {&describe_delegation_token_response::ops(), {&set_error<describe_delegation_token_response>, &set_throttle<describe_delegation_token_response>}},
      {&describe_groups_response::ops(), {&set_error<describe_groups_response>, &set_throttle<describe_groups_response>}},
      {&describe_log_dirs_response::ops(), {&set_error<describe_log_dirs_response>, &set_throttle<describe_log_dirs_response>}},
      {&describe_producers_response::ops(), {&set_error<describe_producers_response>, &set_throttle<describe_producers_response>}},
      {&describe_quorum_response::ops(), {&set_error<describe_quorum_response>, &set_throttle<describe_quorum_response>}},
      {&describe_topic_partitions_response::ops(), {&set_error<describe_topic_partitions_response>, &set_throttle<describe_topic_partitions_response>}},
      {&describe_transactions_response::ops(), {&set_error<describe_transactions_response>, &set_throttle<describe_transactions_response>}},
      {&describe_user_scram_credentials_response::ops(), {&set_error<describe_user_scram_credentials_response>, &set_throttle<describe_user_scram_credentials_response>}},
      {&elect_leaders_response::ops(), {&set_error<elect_leaders_response>, &set_throttle<elect_leaders_response>}},
      {&end_quorum_epoch_response::ops(), {&set_error<end_quorum_epoch_response>, &set_throttle<end_quorum_epoch_response>}},
      {&end_txn_response::ops(), {&set_error<end_txn_response>, &set_throttle<end_txn_response>}},
      {&envelope_response::ops(), {&set_error<envelope_response>, &set_throttle<envelope_response>}},
      {&expire_delegation_token_response::ops(), {&set_error<expire_delegation_token_response>, &set_throttle<expire_delegation_token_response>}},
      {&fetch_response::ops(), {&set_error<fetch_response>, &set_throttle<fetch_response>}},
      {&fetch_snapshot_response::ops(), {&set_error<fetch_snapshot_response>, &set_throttle<fetch_snapshot_response>}},
      {&find_coordinator_response::ops(), {&set_error<find_coordinator_response>, &set_throttle<find_coordinator_response>}},
      {&get_telemetry_subscriptions_response::ops(), {&set_error<get_telemetry_subscriptions_response>, &set_throttle<get_telemetry_subscriptions_response>}},
      {&heartbeat_response::ops(), {&set_error<heartbeat_response>, &set_throttle<heartbeat_response>}},
      {&incremental_alter_configs_response::ops(), {&set_error<incremental_alter_configs_response>, &set_throttle<incremental_alter_configs_response>}},
      {&init_producer_id_response::ops(), {&set_error<init_producer_id_response>, &set_throttle<init_producer_id_response>}},
      {&initialize_share_group_state_response::ops(), {&set_error<initialize_share_group_state_response>, &set_throttle<initialize_share_group_state_response>}},
      {&join_group_response::ops(), {&set_error<join_group_response>, &set_throttle<join_group_response>}},
      {&leader_and_isr_response::ops(), {&set_error<leader_and_isr_response>, &set_throttle<leader_and_isr_response>}},
      {&leave_group_response::ops(), {&set_error<leave_group_response>, &set_throttle<leave_group_response>}},
      {&list_client_metrics_resources_response::ops(), {&set_error<list_client_metrics_resources_response>, &set_throttle<list_client_metrics_resources_response>}},
      {&list_groups_response::ops(), {&set_error<list_groups_response>, &set_throttle<list_groups_response>}},
      {&list_offsets_response::ops(), {&set_error<list_offsets_response>, &set_throttle<list_offsets_response>}},
      {&list_partition_reassignments_response::ops(), {&set_error<list_partition_reassignments_response>, &set_throttle<list_partition_reassignments_response>}},
      {&list_transactions_response::ops(), {&set_error<list_transactions_response>, &set_throttle<list_transactions_response>}},
      {&metadata_response::ops(), {&set_error<metadata_response>, &set_throttle<metadata_response>}},
      {&offset_commit_response::ops(), {&set_error<offset_commit_response>, &set_throttle<offset_commit_response>}},
      {&offset_delete_response::ops(), {&set_error<offset_delete_response>, &set_throttle<offset_delete_response>}},
      {&offset_fetch_response::ops(), {&set_error<offset_fetch_response>, &set_throttle<offset_fetch_response>}},
      {&offset_for_leader_epoch_response::ops(), {&set_error<offset_for_leader_epoch_response>, &set_throttle<offset_for_leader_epoch_response>}},
      {&produce_response::ops(), {&set_error<produce_response>, &set_throttle<produce_response>}},
      {&push_telemetry_response::ops(), {&set_error<push_telemetry_response>, &set_throttle<push_telemetry_response>}},
      {&read_share_group_state_response::ops(), {&set_error<read_share_group_state_response>, &set_throttle<read_share_group_state_response>}},
      {&read_share_group_state_summary_response::ops(), {&set_error<read_share_group_state_summary_response>, &set_throttle<read_share_group_state_summary_response>}},
      {&remove_raft_voter_response::ops(), {&set_error<remove_raft_voter_response>, &set_throttle<remove_raft_voter_response>}},
      {&renew_delegation_token_response::ops(), {&set_error<renew_delegation_token_response>, &set_throttle<renew_delegation_token_response>}},
      {&sasl_authenticate_response::ops(), {&set_error<sasl_authenticate_response>, &set_throttle<sasl_authenticate_response>}},
      {&sasl_handshake_response::ops(), {&set_error<sasl_handshake_response>, &set_throttle<sasl_handshake_response>}},
      {&share_acknowledge_response::ops(), {&set_error<share_acknowledge_response>, &set_throttle<share_acknowledge_response>}},
      {&share_fetch_response::ops(), {&set_error<share_fetch_response>, &set_throttle<share_fetch_response>}},
      {&share_group_describe_response::ops(), {&set_error<share_group_describe_response>, &set_throttle<share_group_describe_response>}},
      {&share_group_heartbeat_response::ops(), {&set_error<share_group_heartbeat_response>, &set_throttle<share_group_heartbeat_response>}},
      {&stop_replica_response::ops(), {&set_error<stop_replica_response>, &set_throttle<stop_replica_response>}},
      {&sync_group_response::ops(), {&set_error<sync_group_response>, &set_throttle<sync_group_response>}},
      {&txn_offset_commit_response::ops(), {&set_error<txn_offset_commit_response>, &set_throttle<txn_offset_commit_response>}},
      {&unregister_broker_response::ops(), {&set_error<unregister_broker_response>, &set_throttle<unregister_broker_response>}},
      {&update_features_response::ops(), {&set_error<update_features_response>, &set_throttle<update_features_response>}},
      {&update_metadata_response::ops(), {&set_error<update_metadata_response>, &set_throttle<update_metadata_response>}},
      {&update_raft_voter_response::ops(), {&set_error<update_raft_voter_response>, &set_throttle<update_raft_voter_response>}},
      {&vote_response::ops(), {&set_error<vote_response>, &set_throttle<vote_response>}},
      {&write_share_group_state_response::ops(), {&set_error<write_share_group_state_response>, &set_throttle<write_share_group_state_response>}},
      {&write_txn_markers_response::ops(), {&set_error<write_txn_markers_response>, &set_throttle<write_txn_markers_response>}},
  };
  return t;
}

}  // namespace

bool set_top_level_error(any_message& response, std::int16_t code) {
  if (response.empty()) return false;
  auto it = table().find(&response.ops());
  return it != table().end() && it->second.error(response.get(), code);
}

bool set_throttle_time(any_message& response, std::int32_t ms) {
  if (response.empty()) return false;
  auto it = table().find(&response.ops());
  return it != table().end() && it->second.throttle(response.get(), ms);
}

}  // namespace kwire::mock::detail
