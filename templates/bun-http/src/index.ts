// A Bun service: Bun.serve with hono's router, JSON in and out, and a
// PostgreSQL query through the WarpGrid SDK's pool (warp's database proxy
// inside a component, a plain TCP connection under `bun run`).
import { Hono } from 'hono';
import { Pool } from '@warpgrid/sdk/pg';

// Read at the top level, and still the deployment's value: warp runs this
// module when an instance starts, not when it packs.
const greeting = Bun.env.GREETING ?? 'Hello';

const pool = new Pool({ connectionString: Bun.env.DATABASE_URL });

const app = new Hono();

app.get('/', (c) => c.text(`${greeting} from bun-http\n`));

app.get('/hello/:name', (c) => c.json({ message: `${greeting}, ${c.req.param('name')}!` }));

app.post('/echo', async (c) => {
  const body = await c.req.json();
  return c.json({ received: body });
});

app.get('/db', async (c) => {
  try {
    const { rows } = await pool.query('SELECT $1::text AS greeting, now() AS at', [greeting]);
    return c.json(rows[0]);
  } catch (error) {
    return c.json({ error: String(error) }, 503);
  }
});

app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404));

// Under `bun run`, Bun listens on PORT; in a component, `warp run` does.
const server = Bun.serve({ port: Number(Bun.env.PORT ?? 3000), fetch: app.fetch });
console.log(`listening on ${server.url}`);
