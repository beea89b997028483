#pragma once

#include <string>
#include <string_view>

#include "store/store.hpp"

/// Every statement the store runs, named, with its SQL per dialect. Drivers prepare each once per
/// connection and cache it (SQLite when first used, PostgreSQL when connecting: so every
/// statement must be valid PostgreSQL; the few PostgreSQL-only ones, which bind arrays, are
/// never run on SQLite). Internal to src/store.
namespace railwatch::store::sql {

enum class Stmt : int {
    kInsertUser,
    kGetUser,
    kListUsers,
    kUserExists,
    kInsertInstance,
    kGetInstance,
    kInstanceExists,
    kInstancesByDeployment,
    kListInstances,
    kCountInstances,
    kUpdateState,
    kUpdateStateButSchedule,
    kSetMonitoring,
    kDeleteInstance,
    kDropLease,
    kInsertEvent,
    kFindEvent,
    kListEvents,
    kGetLogSeq,
    kSetLogSeq,
    kInsertLog,
    kAppendLogs,
    kRotateLogs,
    kRecentLogs,
    kLatestLogTs,
    kInsertHealth,
    kSetHealth,
    kRotateHealth,
    kRecentHealth,
    kRecentCheckSummaries,
    kUptime,
    kInsertNotification,
    kListNotifications,
    kMarkNotificationRead,
    kInsertOutbox,
    kClaimOutbox,
    kMarkOutboxSent,
    kMarkOutboxFailed,
    kOutboxExists,
    kOutboxRow,
    kListDeliveries,
    kReplayOutbox,
    kNextOutboxDue,
    kDisableEndpoint,
    kEnableEndpoint,
    kListDisabledEndpoints,
    kClaimDue,
    kClaimedInstances,
    kReleaseLease,
    kReleaseInstance,
    kLockInstances,
    kReleaseLeases,
    kReleaseInstances,
    kDropLeases,
    kUpsertWorker,
    kKeepWorker,
    kForgetWorkers,
    kWorkerLoads,
    kCountMonitored,
    kParkHeld,
    kHoldLeases,
    kUnparkGone,
    kExpireGone,
    kUnparkLeased,
    kGetInstancesIn,
    kChangePosition,
    kChangedInstances,
    kAttentionCandidates,
    kInstanceStats,
    kEventStats,
    kSucceededTimes,
    kHealthCounts,
    kErrorTypeCounts,
    kFinishedDeployments,
    kUpsertEngineMinute,
    kRotateEngineMinutes,
    kListEngineMinutes,
    kCount,  // not a statement
};

/// A stable name for the statement (PostgreSQL prepared-statement name, error messages).
std::string_view Name(Stmt stmt);

/// The statement's SQL for `backend`: parameters are `$1`, `$2`… for PostgreSQL and `?1`, `?2`…
/// for SQLite.
const std::string& Sql(Stmt stmt, Backend backend);

/// Column list of instance rows, in the order RowToInstance (rows.cpp) reads them.
inline constexpr int kInstanceColumns = 27;

}  // namespace railwatch::store::sql
