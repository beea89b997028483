#pragma once

#include <cstdint>
#include <string>

#include "util/result.hpp"

/// A SQLite VFS that writes each commit's WAL frames with one system call and keeps statement
/// journals in memory.
namespace railwatch::store::sqlite {

/// Registers (once; thread-safe) and names a VFS over SQLite's default one that differs in one
/// thing: writes to a database's write-ahead log (`-wal`) that follow each other are gathered and
/// written with one `pwrite` when the page of a commit frame arrives. SQLite writes each WAL frame
/// as two calls (its 24-byte header, then the page), so a commit of N frames cost 2N system calls;
/// now it costs one. Every other file, and every other operation on the WAL, is the default VFS's
/// own; before any of those on the WAL (a read, sync, truncate, size, lock change, file control,
/// close) and before a write elsewhere in it, what is gathered is written first. So what SQLite
/// reads, syncs or checkpoints is always on file, and a commit is on file (in the page cache, as
/// before with `synchronous = NORMAL`) before SQLite updates the WAL index that makes it visible —
/// a killed process loses no committed transaction. A failed write is reported by the write that
/// completes the commit (or by the operation that flushed it): SQLite then fails that transaction,
/// and the frames before it that never reached the file belong to that same transaction.
///
/// The other thing it does: statement journals (the originals of the pages a savepoint or a
/// statement changes, read back only to undo it) are held in memory, in one buffer per journal
/// that is kept for the thread's next one — not on file (where SQLite's default put them past
/// 64 KiB, two write calls a page) and not in SQLite's in-memory journal (`temp_store = MEMORY`,
/// four allocations and a memory barrier per page). For that the first call sets SQLite's
/// statement-journal spill to 0 (SQLITE_CONFIG_STMTJRNL_SPILL, process-wide, only before SQLite
/// initialises): a connection through this VFS must not set `temp_store = MEMORY`, and one
/// through another VFS then writes its statement journals to temporary files.
///
/// Errors: the default VFS missing, or registration failing (kIo).
util::Result<std::string> WalWriteVfs();

/// How many statement journals this VFS has opened in the process (for tests). Thread-safe.
std::uint64_t StatementJournalsOpened();

}  // namespace railwatch::store::sqlite
