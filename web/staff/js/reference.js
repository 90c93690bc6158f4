// What the screens look up once a session: material type names (the public catalogue),
// the return-reason catalogue (review.reasons) and the region's respond-by default.
import { call } from './rpc.js';

const DEFAULT_RESPOND_DAYS = 7; // until the region sets `respond_days`
let names = null;
let reasons = null;
const regions = {};

export async function catalogueNames() {
  if (!names) {
    try {
      const response = await fetch('/api/v1/catalogue', { cache: 'no-store' });
      const body = await response.json();
      names = Object.fromEntries(body.types.map((t) => [t.material_type, t.name]));
    } catch (e) {
      return {}; // codes instead of names, better than no screen
    }
  }
  return names;
}

export async function reasonList() {
  if (!reasons) reasons = await call('review', 'reasons');
  return reasons;
}

function beijingDate(days) {
  const date = new Date(Date.now() + 8 * 3600e3 + days * 86400e3);
  return date.toISOString().slice(0, 10);
}

// The region's respond-by default as a date (YYYY-MM-DD), from `respond_days`.
export async function respondByDefault(region) {
  if (!(region in regions)) {
    try {
      const found = await call('materials', 'get_region', { region });
      regions[region] = Number.isInteger(found.respond_days) ? found.respond_days : DEFAULT_RESPOND_DAYS;
    } catch (e) {
      regions[region] = DEFAULT_RESPOND_DAYS;
    }
  }
  return beijingDate(regions[region]);
}
