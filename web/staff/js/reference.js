// What the screens look up once a session: the public catalogue (material types in its
// order and their names, the exam categories' names), the return-reason catalogue
// (review.reasons), the names of review's statuses, flags and attempts for filters and
// counts (review.labels) and the regions' settings (site names, the respond-by default).
import { call } from './rpc.js';

const DEFAULT_RESPOND_DAYS = 7; // until the region sets `respond_days`
let catalogue = null;
let reasons = null;
let labels = null;
const regions = {};

// {names: {type: name}, order: [type, ...] (ID proof first), categories: {code: name}}.
export async function catalogueInfo() {
  if (!catalogue) {
    try {
      const response = await fetch('/api/v1/catalogue', { cache: 'no-store' });
      const body = await response.json();
      catalogue = {
        names: Object.fromEntries(body.types.map((t) => [t.material_type, t.name])),
        order: body.types.map((t) => t.material_type),
        categories: Object.fromEntries((body.categories || []).map((c) => [c.code, c.name])),
      };
    } catch (e) {
      return { names: {}, order: [], categories: {} }; // codes instead of names, better than no screen
    }
  }
  return catalogue;
}

export async function catalogueNames() {
  return (await catalogueInfo()).names;
}

// Material types in the catalogue's order; any it does not know go last, by code.
export function inCatalogueOrder(items, order) {
  const rank = (type) => (order.includes(type) ? order.indexOf(type) : order.length);
  return [...items].sort((a, b) => rank(a.material_type) - rank(b.material_type)
    || a.material_type.localeCompare(b.material_type));
}

export async function reasonList() {
  if (!reasons) reasons = await call('review', 'reasons');
  return reasons;
}

// {statuses, flags, attempts, actions}: {code: name} each, as review names them.
export async function reviewLabels() {
  if (!labels) {
    try {
      labels = await call('review', 'labels');
    } catch (e) {
      return { statuses: {}, flags: {}, attempts: {}, actions: {} }; // codes instead of names; asked again next time
    }
  }
  return labels;
}

async function regionSettings(region) {
  if (!(region in regions)) {
    try {
      regions[region] = await call('materials', 'get_region', { region });
    } catch (e) {
      regions[region] = {};
    }
  }
  return regions[region];
}

function beijingDate(days) {
  const date = new Date(Date.now() + 8 * 3600e3 + days * 86400e3);
  return date.toISOString().slice(0, 10);
}

// The region's respond-by default as a date (YYYY-MM-DD), from `respond_days`.
export async function respondByDefault(region) {
  const days = (await regionSettings(region)).respond_days;
  return beijingDate(Number.isInteger(days) ? days : DEFAULT_RESPOND_DAYS);
}

// "3204 常州": a site with its name, as the region's settings give it.
export async function siteText(region, site) {
  const name = ((await regionSettings(region)).sites || {})[site];
  return name ? `${site} ${name}` : site;
}
