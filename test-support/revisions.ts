// Row revisions for tests that publish changes without PostgreSQL (migration 0020 hands them out
// in production): each call is above every earlier one, as the revision of a later commit is.
let last = 0;

export function laterRevision(): number {
  last += 1;
  return last;
}
