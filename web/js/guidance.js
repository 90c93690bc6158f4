// What a returned card tells the candidate to do, by the code of the reviewer's reason
// (review's catalogue, services/review/domain.py REASONS). The reason's own text says what
// is wrong; this says which button to press: a missing page is added (the images already
// there may stay, and adding one counts as a change), anything else is replaced.

const REPLACE = {
  unclear: '请重新拍摄或扫描：将材料平放在光线充足处，正对拍摄，确保四角完整、文字清晰。先删除模糊的图片，再上传新图片。',
  wrong_document: '请删除上传错的图片，对照该项的材料要求和示例图，上传正确的材料。',
  expired: '请删除已过期的材料图片，上传仍在有效期内的材料。',
};
const GENERAL = '请按退回原因修改：删除不符合要求的图片，再上传符合要求的新图片。';

// item: the package view's item (reason_code, count, max_count); contact: the region's.
export function returnGuidance(item, contact) {
  const code = item.reason_code;
  if (code === 'incomplete') {
    return item.count >= item.max_count
      ? `已达上限${item.max_count}张：请先删除不完整的那张，再上传完整的图片（缺少的页或另一面）。`
      : '请补充上传缺少的页或另一面（点“上传”即可）；已上传且完整的图片请保留。';
  }
  if (code === 'mismatch') {
    const whom = contact ? `：${contact}` : '';
    return `请删除信息不一致的图片，上传与报名信息一致的材料；如报名信息本身有误，请联系考点${whom}。`;
  }
  return REPLACE[code] || GENERAL;
}
