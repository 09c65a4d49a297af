import type { TestKronus } from '../../../helpers/app.js'

let sequence = 0

async function login(kronus: TestKronus, email: string, password: string): Promise<string> {
  const res = await kronus.server.inject({ method: 'POST', url: '/login', payload: { email, password } })
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.payload}`)
  return JSON.parse(res.payload).data.token
}

/** Creates a user through the API (the first one, without a token, is the admin) and logs them in. */
export async function signUp(kronus: TestKronus, adminToken?: string): Promise<{ id: number; token: string }> {
  sequence += 1
  const input = {
    first_name: 'jobs',
    last_name: `tester${sequence}`,
    email: `jobs${sequence}-${process.pid}@example.com`,
    phone_number: `+1444${String(sequence).padStart(7, '0')}`,
    password: 'jobs-secret'
  }
  const res = await kronus.server.inject({
    method: 'POST',
    url: '/v1/users',
    payload: input,
    headers: adminToken ? { authorization: `Bearer ${adminToken}` } : {}
  })
  if (res.statusCode !== 201) throw new Error(`sign-up failed: ${res.payload}`)
  return { id: JSON.parse(res.payload).data.id, token: await login(kronus, input.email, input.password) }
}

export async function get(kronus: TestKronus, url: string, token?: string): Promise<{ statusCode: number; body: any }> {
  const res = await kronus.server.inject({
    method: 'GET',
    url,
    headers: token ? { authorization: `Bearer ${token}` } : {}
  })
  return { statusCode: res.statusCode, body: JSON.parse(res.payload) }
}
