// Drives a BBB server (here: the bbbfleet gateway) with the npm package bigbluebutton-js.
//
//   node drive.mjs <bbb-url> <secret> [spec-json]
//
// <bbb-url> is the server's BigBlueButton URL as the library wants it (https://host/bigbluebutton/),
// spec-json names the meeting: {"meetingID", "name", "attendeePW", "moderatorPW", "fullName",
// "userID", "meta": {...}}.  The library builds and signs every URL (Node's querystring: space
// %20, ' ( ) * ! ~ literal) and its http helper (axios + fast-xml-parser) fetches and parses the
// XML; join is fetched without following the redirect, then the redirect is followed by hand.
// Prints one JSON object: the URLs built and what the library parsed from each answer.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const bbb = require('bigbluebutton-js')

const [bbbUrl, secret, specJson] = process.argv.slice(2)
if (!bbbUrl || !secret) {
  console.error('usage: node drive.mjs <bbb-url> <secret> [spec-json]')
  process.exit(2)
}
const spec = {
  meetingID: 'js-room-1',
  name: "Zoë's Café & Co + ~tilde~",
  attendeePW: 'ap',
  moderatorPW: 'mp',
  fullName: "Jürgen O'Brien",
  userID: 'js-user-1',
  meta: { 'bbb-origin': 'bigbluebutton-js' },
  ...(specJson ? JSON.parse(specJson) : {}),
}

const api = bbb.api(bbbUrl, secret)
const http = bbb.http
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const meta = Object.fromEntries(Object.entries(spec.meta).map(([k, v]) => [`meta_${k}`, v]))
const urls = {
  create: api.administration.create(spec.name, spec.meetingID, {
    attendeePW: spec.attendeePW,
    moderatorPW: spec.moderatorPW,
    ...meta,
  }),
  join: api.administration.join(spec.fullName, spec.meetingID, spec.attendeePW, {
    userID: spec.userID,
  }),
  isMeetingRunning: api.monitoring.isMeetingRunning(spec.meetingID),
  getMeetingInfo: api.monitoring.getMeetingInfo(spec.meetingID),
  getMeetings: api.monitoring.getMeetings(),
  end: api.administration.end(spec.meetingID, spec.moderatorPW),
}

const out = { urls }
out.create = await http(urls.create)

const hop = await fetch(urls.join, { redirect: 'manual' })
const location = hop.headers.get('location')
const client = location ? await fetch(location) : null
out.join = {
  status: hop.status,
  location,
  clientStatus: client && client.status,
  clientUrl: client && client.url,
}

out.isMeetingRunning = await http(urls.isMeetingRunning)
out.getMeetingInfo = await http(urls.getMeetingInfo)
out.getMeetings = await http(urls.getMeetings)
out.end = await http(urls.end)

// BBB ends meetings asynchronously: wait (bounded) until getMeetingInfo stops finding it.
for (let i = 0; i < 60; i++) {
  out.getMeetingInfoAfterEnd = await http(urls.getMeetingInfo)
  if (out.getMeetingInfoAfterEnd.returncode !== 'SUCCESS') break
  await sleep(50)
}
out.isMeetingRunningAfterEnd = await http(urls.isMeetingRunning)

console.log(JSON.stringify(out))
