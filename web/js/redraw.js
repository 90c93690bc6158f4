// Redrawing on request. The modules that change the state (uploads, consent, submit, the
// inbox) are imported by the views that draw their buttons, so they cannot import those
// views back; main.js hands the two drawing functions over once, and they ask here.
let drawPage = () => {};
let drawActions = () => {};

export function drawWith({ page, actions }) {
  drawPage = page;
  drawActions = actions;
}

// The whole page again, the focus kept (or put on the first of fallbackKey's data-keys).
export function redraw(fallbackKey) {
  drawPage(fallbackKey);
}

// The top bar's buttons only (an unread count, the submit button's progress).
export function redrawActions(options) {
  drawActions(options);
}
