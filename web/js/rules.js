// What the package view allows: which statuses can be changed, wait or are decided, and
// whether a card can be changed now. Pure: each takes the view it judges.
export const EDITABLE = new Set(['draft', 'returned']);
export const WAITING = new Set(['submitted', 'in_review']);
export const FINAL = new Set(['approved', 'rejected']);
// The banner's title once submitted, also said aloud when a submit succeeds.
export const SUBMITTED_BANNER = '已提交，等待考点审核';

export function pkgEditable(pkg) {
  return EDITABLE.has(pkg.status) && pkg.upload_enabled && pkg.window && pkg.window.open;
}

export function consented(pkg) {
  return Boolean(pkg.consent) && pkg.consent.notice_version === pkg.consent_notice_version;
}

export function itemEditable(pkg, item) {
  return pkgEditable(pkg) && consented(pkg) && !item.locked;
}

// Returned types still holding only the images they were returned with.
export function toFix(pkg) {
  return Array.isArray(pkg.to_fix) ? pkg.to_fix : [];
}

// Uploading is off here, or the window is closed: nothing on the page can be changed.
export function unavailable(pkg) {
  return EDITABLE.has(pkg.status) && !pkgEditable(pkg);
}

// A material type's name as the package names it (the code itself if it does not).
export function itemName(pkg, code) {
  const item = pkg && pkg.items.find((i) => i.material_type === code);
  return item ? item.name : code;
}
