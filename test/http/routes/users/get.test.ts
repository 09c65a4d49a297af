import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createUser } from '../../../helpers/http.js'

t.test('a user reads their own record with probe settings', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const res = await call(kronus, { url: `/v1/users/${user.id}`, token: user.token })
  t.equal(res.statusCode, 200)
  t.same(res.body, { success: true, data: user.record }, 'the same record the creation returned')
})

t.test('an unknown user id is a 404 for the admin', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const res = await call(kronus, { url: '/v1/users/4242', token: admin.token })
  t.equal(res.statusCode, 404)
  t.same(res.body, { success: false, errors: ['user 4242 not found'] })
})

t.test('a uid that is not a positive integer is a 400 naming uid', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  for (const uid of ['abc', '0', '-3', '1.5', '99999999999999999999']) {
    const res = await call(kronus, { url: `/v1/users/${uid}`, token: admin.token })
    t.equal(res.statusCode, 400, `uid ${uid}`)
    t.match(res.body.errors.join(' '), 'uid')
  }
})
