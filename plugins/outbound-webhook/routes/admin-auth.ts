/** Configured endpoints belong to the installation, so only an admin sees or changes them. */
export const ADMIN_AUTH = { strategy: 'jwt', access: { scope: 'admin' } } as const
