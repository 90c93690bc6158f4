// One-shot setup of the compose replica set, run by the mongo-init container:
//   mongosh --nodb --file init-replica-set.js
// Idempotent: every `docker compose up` runs it again and it changes only what is missing.
//
// 1. If rs0 has no configuration yet, initiate it with the three members (mongo1
//    preferred as primary). This step talks to mongo1 directly: before initiation
//    there is no replica set to discover, and only mongo1 holds the root user (created
//    by the image on its first start; mongo2 and mongo3 receive it by initial sync).
// 2. Wait for a primary.
// 3. Create, or update the password and roles of, one user per service, each with
//    readWrite on its own database and nothing else (DESIGN §2: no service reads
//    another service's database). Passwords come from the environment.

const SERVICES = ["auth", "materials", "review", "notify"];
const MEMBERS = ["mongo1:27017", "mongo2:27017", "mongo3:27017"];
const rootPassword = encodeURIComponent(process.env.MONGO_ROOT_PASSWORD || "");
if (!rootPassword) throw new Error("MONGO_ROOT_PASSWORD is not set");
if (rootPassword.startsWith("CHANGE-ME")) throw new Error("MONGO_ROOT_PASSWORD still has its CHANGE-ME placeholder");

function connectWithRetry(uri, what) {
  for (let attempt = 1; ; attempt++) {
    try {
      const conn = new Mongo(uri);
      conn.getDB("admin").runCommand({ ping: 1 });
      return conn;
    } catch (err) {
      if (attempt >= 60) throw err;
      print(`waiting for ${what}: ${err.message}`);
      sleep(2000);
    }
  }
}

function replicaSetConfigured(admin) {
  try {
    return admin.runCommand({ replSetGetStatus: 1 }).ok === 1;
  } catch (err) {
    // NotYetInitialized (94): no configuration received yet
    if (err.code === 94 || err.codeName === "NotYetInitialized") return false;
    throw err;
  }
}

// -- 1. initiate -------------------------------------------------------------------
const direct = connectWithRetry(
  `mongodb://root:${rootPassword}@mongo1:27017/admin?directConnection=true&authSource=admin`,
  "mongo1");
if (!replicaSetConfigured(direct.getDB("admin"))) {
  print("initiating replica set rs0 with " + MEMBERS.join(", "));
  direct.getDB("admin").runCommand({
    replSetInitiate: {
      _id: "rs0",
      members: MEMBERS.map((host, i) => ({ _id: i, host: host, priority: i === 0 ? 2 : 1 })),
    },
  });
} else {
  print("replica set rs0 already initiated");
}

// -- 2. wait for a primary ---------------------------------------------------------
let primary = null;
for (let attempt = 1; attempt <= 90 && !primary; attempt++) {
  const hello = direct.getDB("admin").runCommand({ hello: 1 });
  if (hello.primary) {
    primary = hello.primary;
  } else {
    print("waiting for a primary ...");
    sleep(2000);
  }
}
if (!primary) throw new Error("no primary elected after 3 minutes");
print(`primary: ${primary}`);

// -- 3. one user per service -------------------------------------------------------
const rs = connectWithRetry(
  `mongodb://root:${rootPassword}@${MEMBERS.join(",")}/admin?replicaSet=rs0&authSource=admin`,
  "the replica set");
const admin = rs.getDB("admin");
for (const service of SERVICES) {
  const variable = `MONGO_${service.toUpperCase()}_PASSWORD`;
  const pwd = process.env[variable];
  if (!pwd) throw new Error(`${variable} is not set`);
  if (pwd.startsWith("CHANGE-ME")) throw new Error(`${variable} still has its CHANGE-ME placeholder`);
  const roles = [{ role: "readWrite", db: service }];
  if (admin.getUser(service)) {
    admin.updateUser(service, { pwd: pwd, roles: roles });
    print(`user ${service}: updated`);
  } else {
    admin.createUser({ user: service, pwd: pwd, roles: roles });
    print(`user ${service}: created`);
  }
}
print("mongo-init done");
