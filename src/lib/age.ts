/** Whole years between an ISO birth date (YYYY-MM-DD) and `at`, in UTC. */
export function ageAt(birthDate: string, at: Date): number {
  const [y, m, d] = birthDate.split('-').map(Number);
  let age = at.getUTCFullYear() - y;
  const beforeBirthday = at.getUTCMonth() + 1 < m || (at.getUTCMonth() + 1 === m && at.getUTCDate() < d);
  if (beforeBirthday) age -= 1;
  return age;
}

export const MIN_SIGN_UP_AGE = 13;
export const MIN_MESSAGING_AGE = 16;
export const ADULT_AGE = 18;

/** A real calendar date in YYYY-MM-DD form. */
export function isIsoDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}
