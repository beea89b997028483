#pragma once

#include <cstddef>
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
    kIndexedState,
    kInstancesByDeployment,
    kListInstances,
    kCountInstances,
    // UPDATE instances SET <state> WHERE id = $1 in eight forms: UpdateStateStmt(sets).
    kUpdateState0,
    kUpdateState1,
    kUpdateState2,
    kUpdateState3,
    kUpdateState4,
    kUpdateState5,
    kUpdateState6,
    kUpdateState7,
    // SQLite: a check's transition of an instance that still follows its deployment and keeps its
    // stored due time (UpdateFollowingState, rows.hpp).
    kUpdateFollowingState,
    kSetMonitoring,
    kDeleteInstance,
    kDropLease,
    kInsertEvent,
    // SQLite: a check batch's transitions in multi-row statements (timeline.cpp), in forms of
    // 1, 2, 4 … 64 rows: InsertEventsStmt / UpdateFollowingStatesStmt.
    kInsertEvents1,
    kInsertEvents2,
    kInsertEvents4,
    kInsertEvents8,
    kInsertEvents16,
    kInsertEvents32,
    kInsertEvents64,
    kUpdateFollowingStates1,
    kUpdateFollowingStates2,
    kUpdateFollowingStates4,
    kUpdateFollowingStates8,
    kUpdateFollowingStates16,
    kUpdateFollowingStates32,
    kUpdateFollowingStates64,
    kFindEvent,
    kDeleteEvent,
    kListEvents,
    kDeleteSteps,
    kInsertStep,
    kTrimSteps,
    kListSteps,
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
    kChangedIds,
    kFeedLast,
    kFeedSince,
    kAllInstances,
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

/// Whether the statement is an INSERT of one row whose SQLite form answers the new row's id
/// without RETURNING: the driver gives one row of one column, sqlite3_last_insert_rowid, when the
/// statement inserted its row, and no row when it did not (ON CONFLICT DO NOTHING), as the
/// PostgreSQL form's `RETURNING id` does. SQLite runs a RETURNING clause through a temporary
/// b-tree opened and closed at every run (a pager and its caches allocated each time): ~11 % of
/// the writer's CPU while health probes were stored one statement each (docs/PERFORMANCE.md).
bool SqliteReturnsRowid(Stmt stmt);

/// The statement's SQL for `backend`: parameters are `$1`, `$2`… for PostgreSQL and `?1`, `?2`…
/// for SQLite.
const std::string& Sql(Stmt stmt, Backend backend);

/// Which of the indexed state columns an UPDATE of an instance's state sets. SQLite rewrites the
/// index entries of every column an UPDATE sets, changed or not (a page of the WAL each), so the
/// store leaves out those whose stored value stays (UpdateState, rows.hpp).
enum SetsIndexed : unsigned {
    kSetsStatus = 1,
    kSetsDeploymentId = 2,
    kSetsNextCheck = 4,
    kSetsAll = 7,
};
/// The form of kUpdateState* that sets the state columns and, of the indexed ones, those in
/// `sets`. Its parameters: $1 = id, then StateParams' values (rows.hpp) of the columns it sets,
/// in StateParams' order.
Stmt UpdateStateStmt(unsigned sets);
/// Whether the form for `sets` sets the state column `column` (0..14: status, deployment_id, …,
/// next_check_at, StateParams' order after the id).
constexpr bool UpdateStateSets(unsigned sets, std::size_t column) {
    if (column == 0) return (sets & kSetsStatus) != 0;
    if (column == 1) return (sets & kSetsDeploymentId) != 0;
    if (column == 14) return (sets & kSetsNextCheck) != 0;
    return true;
}

/// The multi-row statements' largest form (kInsertEvents64, kUpdateFollowingStates64).
inline constexpr std::size_t kMaxRowsPerStatement = 64;
/// The largest multi-row form that `rows` (1 or more) fills: 1, 2, 4 … kMaxRowsPerStatement rows.
std::size_t RowsPerStatement(std::size_t rows);
/// SQLite: inserts the events of `rows` (RowsPerStatement's sizes) transitions, each with the
/// seven values of kInsertEvent in turn, skips those recorded before (ON CONFLICT DO NOTHING) and
/// returns (id, instance_id) of each event inserted, in no particular order.
Stmt InsertEventsStmt(std::size_t rows);
/// SQLite: kUpdateFollowingState for `rows` (RowsPerStatement's sizes) instances at once, each
/// with its 16 values in turn, and returns the id of each instance written, in no particular
/// order. Every instance must appear once at most (an instance given twice is written once).
Stmt UpdateFollowingStatesStmt(std::size_t rows);

/// Column list of instance rows, in the order RowToInstance (rows.cpp) reads them.
inline constexpr int kInstanceColumns = 27;

}  // namespace railwatch::store::sql
