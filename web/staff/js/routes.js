// Every screen of the staff workspace, in nav order. A screen is a module exporting
// `render(root, ctx)` (ctx: params, who, navigate, announce, and refresh to draw it
// again: screens get it here, so no screen imports the router), which may return a
// function called when the screen is left (release a claim, stop timers).
// `nav: true` puts it in the header's nav for the roles listed.
export const ROUTES = [
  { id: 'queue', pattern: /^#\/queue$/, href: '#/queue', label: '待审队列', roles: ['reviewer', 'admin'],
    nav: true, load: () => import('./queue.js') },
  { id: 'case', pattern: /^#\/case\/([A-Za-z0-9_-]{1,64})$/, label: '审核材料', roles: ['reviewer', 'admin'],
    nav: false, load: () => import('./case.js') },
  { id: 'view', pattern: /^#\/view\/([A-Za-z0-9_-]{1,64})$/, label: '查看材料', roles: ['reviewer', 'admin'],
    nav: false, load: () => import('./case.js'), options: { readOnly: true } },
  // Administrators (issue 19 items 7-9): web/staff/js/admin/
  { id: 'overview', pattern: /^#\/admin\/overview$/, href: '#/admin/overview', label: '统计概览', roles: ['admin'],
    nav: true, load: () => import('./admin/overview.js') },
  { id: 'region', pattern: /^#\/admin\/region$/, href: '#/admin/region', label: '考区设置', roles: ['admin'],
    nav: true, load: () => import('./admin/region.js') },
  { id: 'import', pattern: /^#\/admin\/import$/, href: '#/admin/import', label: '考生导入', roles: ['admin'],
    nav: true, load: () => import('./admin/imports.js') },
  { id: 'dead-letters', pattern: /^#\/admin\/dead-letters$/, href: '#/admin/dead-letters', label: '失败事件', roles: ['admin'],
    nav: true, load: () => import('./admin/deadletters.js') },
  // Outcomes to the registration system (DESIGN §4a): national administrators only.
  { id: 'webhooks', pattern: /^#\/admin\/webhooks$/, href: '#/admin/webhooks', label: '结果推送', roles: ['admin'],
    national: true, nav: true, load: () => import('./admin/webhooks.js') },
];

// Whether `who` may open `route`: the role, and for `national: true` the whole country.
export function allowed(route, who) {
  return route.roles.includes(who.role) && (!route.national || who.region === '*');
}

// The first screen after sign-in, per role.
export const HOME = { reviewer: '#/queue', admin: '#/queue' };
