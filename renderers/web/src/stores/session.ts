// Who is signed in, and their language. The session itself is an HttpOnly cookie set by
// the server; this store only knows whether it holds and whose it is.
import { defineStore } from "pinia";
import { ref } from "vue";

import { api, ApiError, type User } from "@/api";
import { applyLocale, currentLocale, type Locale, LOCALES } from "@/i18n";

export const useSession = defineStore("session", () => {
  const user = ref<User | null>(null);
  const checked = ref(false);

  function adopt(found: User): void {
    user.value = found;
    const locale = found.locale as Locale | null;
    if (locale && LOCALES.includes(locale)) applyLocale(locale);
  }

  /** Whether a session holds; asks the server once per page load. */
  async function ensure(): Promise<boolean> {
    if (checked.value) return user.value !== null;
    try {
      adopt(await api.me());
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) throw error;
      user.value = null;
    }
    checked.value = true;
    return user.value !== null;
  }

  async function signIn(email: string, password: string): Promise<void> {
    const answer = await api.signIn(email, password);
    checked.value = true;
    adopt(answer.user);
    // a language chosen on the sign-in page before the user had one is kept for them
    if (!answer.user.locale) await setLocale(currentLocale());
  }

  async function signOut(): Promise<void> {
    try {
      await api.signOut();
    } finally {
      forget();
    }
  }

  function forget(): void {
    user.value = null;
    checked.value = true;
  }

  async function setLocale(locale: Locale): Promise<void> {
    applyLocale(locale);
    if (user.value) user.value = await api.updateMe({ locale });
  }

  return { user, checked, ensure, signIn, signOut, forget, setLocale };
});
