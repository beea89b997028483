#pragma once

#include <string>

#include "util/result.hpp"

/// A SQLite VFS that writes each commit's WAL frames with one system call.
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
/// Errors: the default VFS missing, or registration failing (kIo).
util::Result<std::string> WalWriteVfs();

}  // namespace railwatch::store::sqlite
