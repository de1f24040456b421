// The API key lives in session storage only: gone when the tab closes, never in a URL.
const KEY = 'hangar.apiKey';

export const readKey = () => sessionStorage.getItem(KEY);
export const storeKey = (key) => sessionStorage.setItem(KEY, key);
export const forgetKey = () => sessionStorage.removeItem(KEY);

let roles = ['platform-admin', 'admin', 'operator', 'viewer'];
export const setRoles = (list) => {
  if (Array.isArray(list) && list.length) roles = list;
};

/** Whether `role` holds at least `least`; an unknown role holds nothing (as on the server). */
export function hasRole(role, least) {
  const held = roles.indexOf(role);
  const needed = roles.indexOf(least);
  return held >= 0 && needed >= 0 && held <= needed;
}
