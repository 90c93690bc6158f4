// Checks a chosen photo before it is uploaded and, where it can, fixes it in the browser.
//
// The server refuses files over the region's byte limit, files that are not real JPEG/PNG,
// and images whose EXIF orientation is not 1 (DESIGN §4). A phone photo usually fails all
// three at once: several MB, 4000x3000, and stored sideways with an orientation tag. Here we
// read the format and the orientation from the bytes ourselves, then redraw the picture on
// a canvas, upright and scaled down, and re-encode it as JPEG until it fits. Canvas output
// carries no EXIF at all.
//
// Browsers disagree on whether they apply the EXIF orientation when decoding (Chromium
// does, for <img> and createImageBitmap, and here ignored createImageBitmap's
// imageOrientation: 'none' as well). To get the raw pixels everywhere, we
// neutralise the tag in a copy of the bytes before decoding (orientation set to 1 in a JPEG,
// the eXIf chunk cut from a PNG) and apply the orientation ourselves.

export const LONG_SIDE = 1600;     // what a reviewer needs to read a document comfortably
const LARGE_SIDE = 2400;           // beyond this a picture is "larger than needed"
const QUALITIES = [0.92, 0.86, 0.8, 0.74, 0.68, 0.62, 0.56, 0.5];
const SHRINK = 0.85;

export const ORIENTATION_TEXT = {
  2: '水平翻转', 3: '旋转180°', 4: '垂直翻转', 5: '翻转并旋转',
  6: '顺时针旋转90°', 7: '翻转并旋转', 8: '逆时针旋转90°',
};

// -- reading the bytes -----------------------------------------------------------------------
export function sniff(bytes) {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'png';
  return null;
}

// Another image format (GIF, WebP, BMP, TIFF, HEIC/AVIF): worth converting, and if that
// fails the candidate is told to save it as jpg or png, not that it is no image at all.
export function isOtherImage(bytes) {
  const head = ascii(bytes, 0, 12);
  return /^(GIF8|RIFF|BM|II\*\0|MM\0\*|8BPS)/.test(head)
    || /^ftyp(heic|heix|mif1|msf1|avif|hevc)$/.test(head.slice(4, 12));
}

function ascii(bytes, start, length) {
  let out = '';
  for (let i = start; i < start + length && i < bytes.length; i++) out += String.fromCharCode(bytes[i]);
  return out;
}

// Orientation entries of IFD0 in a TIFF block [start, end): [{value, at}] (at = byte offset).
function tiffOrientations(bytes, start, end) {
  const found = [];
  if (end - start < 8) return found;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const order = ascii(bytes, start, 2);
  if (order !== 'II' && order !== 'MM') return found;
  const little = order === 'II';
  if (view.getUint16(start + 2, little) !== 42) return found;
  const ifd = start + view.getUint32(start + 4, little);
  if (ifd + 2 > end) return found;
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > end) break;
    if (view.getUint16(entry, little) === 0x0112 && view.getUint16(entry + 2, little) === 3) {
      found.push({ value: view.getUint16(entry + 8, little), at: entry + 8, little });
    }
  }
  return found;
}

// Width, height (as stored) and EXIF orientation of a JPEG, from its header segments.
export function readJpeg(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const info = { width: 0, height: 0, orientation: 1, tags: [] };
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) break;
    const marker = bytes[pos + 1];
    if (marker === 0xff) { pos += 1; continue; }                  // fill byte
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { pos += 2; continue; }
    if (marker === 0xd9 || marker === 0xda) break;                 // end, or the image data
    const length = view.getUint16(pos + 2);
    const start = pos + 4;
    const end = Math.min(bytes.length, pos + 2 + length);
    if (marker === 0xe1 && ascii(bytes, start, 6) === 'Exif\0\0' && !info.tags.length) {
      info.tags = tiffOrientations(bytes, start + 6, end);
      if (info.tags.length) info.orientation = info.tags[0].value;
    }
    const isSof = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (isSof && start + 5 <= end && !info.width) {
      info.height = view.getUint16(start + 1);
      info.width = view.getUint16(start + 3);
    }
    pos += 2 + length;
  }
  if (info.orientation < 1 || info.orientation > 8) info.orientation = 1;
  return info;
}

// Width, height and eXIf orientation of a PNG, and where its eXIf chunks are.
export function readPng(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const info = { width: 0, height: 0, orientation: 1, exifChunks: [] };
  let pos = 8;
  while (pos + 12 <= bytes.length) {
    const length = view.getUint32(pos);
    const type = ascii(bytes, pos + 4, 4);
    if (type === 'IHDR' && length >= 8) {
      info.width = view.getUint32(pos + 8);
      info.height = view.getUint32(pos + 12);
    } else if (type === 'eXIf') {
      const tags = tiffOrientations(bytes, pos + 8, pos + 8 + length);
      if (tags.length && info.orientation === 1) info.orientation = tags[0].value;
      info.exifChunks.push([pos, pos + 12 + length]);
    } else if (type === 'IEND') {
      break;
    }
    pos += 12 + length;
  }
  if (info.orientation < 1 || info.orientation > 8) info.orientation = 1;
  return info;
}

// A copy of the bytes whose pixels every browser decodes as stored (no orientation applied).
function withoutOrientation(bytes, format, info) {
  if (format === 'jpeg') {
    const copy = bytes.slice();
    const view = new DataView(copy.buffer);
    for (const tag of info.tags) view.setUint16(tag.at, 1, tag.little);
    return copy;
  }
  if (format === 'png' && info.exifChunks.length) {
    const parts = [];
    let from = 0;
    for (const [start, end] of info.exifChunks) { parts.push(bytes.subarray(from, start)); from = end; }
    parts.push(bytes.subarray(from));
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }
  return bytes;
}

// -- deciding ---------------------------------------------------------------------------------
// What is wrong with a chosen file, judged on its bytes:
//   {format, bytes, width, height (as displayed), orientation, problems[], fixable,
//    originalOk, tooSmall, corrupt}
// problems: 'format' (not JPEG/PNG), 'size' (over the byte limit), 'rotated' (EXIF
// orientation other than 1), 'large' (far more pixels than a reviewer needs).
export async function inspect(file, limits) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const format = sniff(bytes);
  const result = { file, bytes, format, size: bytes.length, width: 0, height: 0, orientation: 1,
                   problems: [], info: null, tooSmall: false, corrupt: false };
  if (format === 'jpeg') result.info = readJpeg(bytes);
  else if (format === 'png') result.info = readPng(bytes);
  if (result.info) {
    result.orientation = result.info.orientation;
    const swap = result.orientation >= 5;
    result.width = swap ? result.info.height : result.info.width;
    result.height = swap ? result.info.width : result.info.height;
    if (!result.width || !result.height) result.corrupt = true;
  } else {
    // Another format (HEIC, WebP, GIF...): convertible if this browser can decode it.
    result.problems.push('format');
    result.otherImage = isOtherImage(bytes);
    try {
      const image = await decode(new Blob([bytes], { type: file.type || 'application/octet-stream' }));
      result.width = image.width; result.height = image.height;
      result.decoded = image;
    } catch (e) {
      result.corrupt = true;
    }
  }
  if (result.size > limits.max_bytes) result.problems.push('size');
  if (result.orientation !== 1) result.problems.push('rotated');
  if (Math.max(result.width, result.height) > LARGE_SIDE) result.problems.push('large');
  result.tooSmall = !result.corrupt && Math.min(result.width, result.height) < limits.min_short_side;
  result.originalOk = !result.corrupt && !result.tooSmall && result.problems.every((p) => p === 'large');
  result.fixable = !result.corrupt && !result.tooSmall && result.problems.length > 0;
  return result;
}

export function describeProblems(result, limits) {
  const kb = Math.floor(limits.max_bytes / 1024);
  const out = [];
  for (const problem of result.problems) {
    if (problem === 'format') out.push('格式不是 jpg/jpeg/png');
    if (problem === 'size') out.push(`文件 ${formatBytes(result.size)}，超过 ${kb}KB 的限制`);
    if (problem === 'rotated') out.push(`照片带有方向标记（需${ORIENTATION_TEXT[result.orientation] || '旋转'}才能正向显示）`);
    if (problem === 'large') out.push(`尺寸 ${result.width}×${result.height}，远大于审核所需`);
  }
  return out;
}

export function formatBytes(n) {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)}MB`;
  return `${Math.max(1, Math.round(n / 1024))}KB`;
}

// -- fixing -----------------------------------------------------------------------------------
export function decode(blob) {
  if (typeof createImageBitmap === 'function') {
    return createImageBitmap(blob).catch(() => decodeWithImage(blob));
  }
  return decodeWithImage(blob);
}

function decodeWithImage(blob) {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(blob);
    const image = new Image();
    image.onload = () => { URL.revokeObjectURL(url); resolve(image); };
    image.onerror = () => { URL.revokeObjectURL(url); reject(new Error('decode')); };
    image.src = url;
  });
}

function canvas(width, height) {
  const c = document.createElement('canvas');
  c.width = Math.max(1, Math.round(width));
  c.height = Math.max(1, Math.round(height));
  return c;
}

// The source drawn at (width, height) in its stored orientation, halving step by step so
// that text stays crisp however large the photo was.
function resample(source, width, height) {
  let current = source;
  let w = source.width;
  let h = source.height;
  while (w / 2 >= width * 1.2 && h / 2 >= height * 1.2) {
    w = Math.round(w / 2); h = Math.round(h / 2);
    const step = canvas(w, h);
    const ctx = step.getContext('2d');
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(current, 0, 0, w, h);
    current = step;
  }
  return current;
}

// Draw `source` (stored orientation) upright into a new canvas, scaled by `scale`.
export function drawUpright(source, orientation, scale) {
  const tw = Math.max(1, Math.round(source.width * scale));
  const th = Math.max(1, Math.round(source.height * scale));
  const swap = orientation >= 5;
  const out = canvas(swap ? th : tw, swap ? tw : th);
  const ctx = out.getContext('2d');
  ctx.fillStyle = '#fff';                        // PNG transparency becomes white paper
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  switch (orientation) {
    case 2: ctx.setTransform(-1, 0, 0, 1, tw, 0); break;
    case 3: ctx.setTransform(-1, 0, 0, -1, tw, th); break;
    case 4: ctx.setTransform(1, 0, 0, -1, 0, th); break;
    case 5: ctx.setTransform(0, 1, 1, 0, 0, 0); break;
    case 6: ctx.setTransform(0, 1, -1, 0, th, 0); break;
    case 7: ctx.setTransform(0, -1, -1, 0, th, tw); break;
    case 8: ctx.setTransform(0, -1, 1, 0, 0, tw); break;
    default: break;
  }
  ctx.drawImage(resample(source, tw, th), 0, 0, tw, th);
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  return out;
}

function toBlob(c, quality) {
  return new Promise((resolve, reject) => {
    c.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('encode'))), 'image/jpeg', quality);
  });
}

// The picture upright, scaled so the long side is at most LONG_SIDE (never the short side
// below the region's minimum), re-encoded as JPEG at the best quality that fits.
// Resolves to {blob, width, height, quality}; rejects with a Chinese message when impossible.
export async function fix(result, limits) {
  let source = result.decoded;
  let orientation = result.orientation;
  if (!source) {
    const raw = withoutOrientation(result.bytes, result.format, result.info);
    source = await decode(new Blob([raw], { type: result.format === 'png' ? 'image/png' : 'image/jpeg' }));
    // Safety net: a browser that applied the orientation anyway shows it in the size.
    if (orientation >= 5 && source.width === result.info.height && source.height === result.info.width
        && result.info.width !== result.info.height) {
      orientation = 1;
    }
  }
  const short = Math.min(source.width, source.height);
  const long = Math.max(source.width, source.height);
  const minScale = Math.min(1, limits.min_short_side / short);
  let scale = Math.min(1, LONG_SIDE / long);
  scale = Math.max(scale, minScale);
  for (;;) {
    const drawn = drawUpright(source, orientation, scale);
    for (const quality of QUALITIES) {
      const blob = await toBlob(drawn, quality);
      if (blob.size <= limits.max_bytes) {
        return { blob, width: drawn.width, height: drawn.height, quality };
      }
    }
    if (scale <= minScale) break;
    scale = Math.max(minScale, scale * SHRINK);
  }
  throw new Error('这张照片无法在保证清晰的前提下压缩到限制以内，请在光线充足处重新拍摄，或使用扫描件。');
}
