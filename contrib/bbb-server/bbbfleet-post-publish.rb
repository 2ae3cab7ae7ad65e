#!/usr/bin/ruby
# frozen_string_literal: true

# bbbfleet post-publish script: pushes a freshly published recording to the bbbfleet gateway.
#
# Install into /usr/local/bigbluebutton/core/scripts/post_publish/ (see docs/post-publish.md).
# BigBlueButton runs every post_publish script once a recording's last format is published,
# as `ruby <script> -m <recordID> [-f <format>]`. This one:
#
#   1. tars /var/bigbluebutton/published/*/<recordID> (every format, not only -f) into a
#      temporary file: entries <format>/<recordID>/...
#   2. computes its size and sha256,
#   3. POSTs it to <gateway>/bigbluebutton/fleet/recordings/push?server=&recordID=&size=&sha256=
#      &checksum=, where checksum = sha256("recordingsPush" + query + the server's BBB secret),
#      the secret being securitySalt of /etc/bigbluebutton/bbb-web.properties (falling back to
#      /usr/share/bbb-web/WEB-INF/classes/bigbluebutton.properties),
#   4. retries connection errors and 5xx answers a few times with backoff,
#   5. deletes the local published directories only when delete_after_import is on AND the
#      gateway answered imported=true with the sha256 that was sent.
#
# Configuration: /etc/bigbluebutton/bbbfleet.yml (or the file named by BBBFLEET_CONFIG), each
# key overridable by an environment variable:
#
#   gateway_url:          https://fleet.example.com    BBBFLEET_GATEWAY_URL   (required)
#   server_name:          bbb-01                       BBBFLEET_SERVER_NAME   (default: hostname)
#   delete_after_import:  false                        BBBFLEET_DELETE_AFTER_IMPORT
#   published_dir:        /var/bigbluebutton/published BBBFLEET_PUBLISHED_DIR
#   properties_files:     [bbb-web.properties, ...]    BBBFLEET_PROPERTIES (':'-separated)
#   secret:               (read from properties)       BBBFLEET_SECRET
#   attempts:             4                            BBBFLEET_ATTEMPTS
#   retry_seconds:        5                            BBBFLEET_RETRY_SECONDS (doubles each time)
#   timeout_seconds:      600                          BBBFLEET_TIMEOUT_SECONDS
#   log_file:             /var/log/bigbluebutton/bbbfleet-post-publish.log  BBBFLEET_LOG_FILE
#
# Exit status: 0 when the gateway accepted the push (or no gateway is configured), 1 otherwise.
# Uses only Ruby's standard library and GNU tar.

require 'digest'
require 'erb'
require 'fileutils'
require 'logger'
require 'net/http'
require 'open3'
require 'optparse'
require 'socket'
require 'tempfile'
require 'uri'
require 'yaml'

module BbbfleetPostPublish
  PUSH_PATH = '/bigbluebutton/fleet/recordings/push'
  PUSH_CALL = 'recordingsPush'
  DEFAULTS = {
    'gateway_url' => nil,
    'server_name' => nil,
    'delete_after_import' => false,
    'published_dir' => '/var/bigbluebutton/published',
    'properties_files' => [
      '/etc/bigbluebutton/bbb-web.properties',
      '/usr/share/bbb-web/WEB-INF/classes/bigbluebutton.properties',
    ],
    'secret' => nil,
    'attempts' => 4,
    'retry_seconds' => 5,
    'timeout_seconds' => 600,
    'log_file' => '/var/log/bigbluebutton/bbbfleet-post-publish.log',
  }.freeze
  ENV_KEYS = {
    'gateway_url' => 'BBBFLEET_GATEWAY_URL',
    'server_name' => 'BBBFLEET_SERVER_NAME',
    'delete_after_import' => 'BBBFLEET_DELETE_AFTER_IMPORT',
    'published_dir' => 'BBBFLEET_PUBLISHED_DIR',
    'properties_files' => 'BBBFLEET_PROPERTIES',
    'secret' => 'BBBFLEET_SECRET',
    'attempts' => 'BBBFLEET_ATTEMPTS',
    'retry_seconds' => 'BBBFLEET_RETRY_SECONDS',
    'timeout_seconds' => 'BBBFLEET_TIMEOUT_SECONDS',
    'log_file' => 'BBBFLEET_LOG_FILE',
  }.freeze
  # A record ID is sha1-hex + '-' + milliseconds; nothing else may reach a path.
  RECORD_ID = /\A[0-9a-f]{40}-\d{13}\z/.freeze

  module_function

  def truthy?(value)
    %w[true yes 1 on].include?(value.to_s.strip.downcase)
  end

  def load_config(env = ENV)
    config = DEFAULTS.dup
    path = env['BBBFLEET_CONFIG'] || '/etc/bigbluebutton/bbbfleet.yml'
    if File.file?(path)
      loaded = YAML.safe_load(File.read(path)) || {}
      raise "#{path}: expected a mapping" unless loaded.is_a?(Hash)

      loaded.each { |key, value| config[key.to_s] = value if DEFAULTS.key?(key.to_s) }
    end
    ENV_KEYS.each do |key, name|
      value = env[name]
      next if value.nil? || value.empty?

      config[key] = key == 'properties_files' ? value.split(':') : value
    end
    config['delete_after_import'] = truthy?(config['delete_after_import'])
    config['attempts'] = [Integer(config['attempts'].to_s), 1].max
    config['retry_seconds'] = Float(config['retry_seconds'].to_s)
    config['timeout_seconds'] = Float(config['timeout_seconds'].to_s)
    config['server_name'] = Socket.gethostname if config['server_name'].to_s.empty?
    config
  end

  # securitySalt of the first properties file that sets it (bbb-web.properties overrides the
  # packaged defaults, so it comes first). Java properties: key=value or key: value, # comments.
  def read_secret(files)
    Array(files).each do |file|
      next unless File.file?(file)

      File.foreach(file) do |line|
        line = line.strip
        next if line.empty? || line.start_with?('#', '!')

        key, value = line.split(/\s*[=:]\s*|\s+/, 2)
        return value.to_s.strip if key == 'securitySalt' && !value.to_s.strip.empty?
      end
    end
    nil
  end

  def format_dirs(published_dir, record_id)
    Dir.glob(File.join(published_dir, '*', record_id)).select { |d| File.directory?(d) }.sort
  end

  # The archive of contract C1: <format>/<recordID>/... entries, sorted, owned by root.
  def build_archive(published_dir, dirs, file)
    relative = dirs.map { |d| d.delete_prefix("#{published_dir.chomp('/')}/") }
    command = ['tar', '--create', '--file', file, '--directory', published_dir, '--sort=name',
               '--owner=0', '--group=0', '--numeric-owner', '--format=gnu', '--', *relative]
    output, status = Open3.capture2e(*command)
    raise "tar failed: #{output}" unless status.success?
  end

  def signed_query(server_name, record_id, size, sha256, secret)
    pairs = [['server', server_name], ['recordID', record_id], ['size', size.to_s]]
    pairs << ['sha256', sha256] if sha256
    query = pairs.map { |k, v| "#{k}=#{ERB::Util.url_encode(v)}" }.join('&')
    checksum = Digest::SHA256.hexdigest("#{PUSH_CALL}#{query}#{secret}")
    "#{query}&checksum=#{checksum}"
  end

  def push_uri(gateway_url, query)
    base = gateway_url.to_s.chomp('/')
    base += PUSH_PATH unless base.end_with?(PUSH_PATH)
    URI.parse("#{base}?#{query}")
  end

  # One POST with the archive streamed from disk; returns [status, body].
  def post(uri, file, size, timeout)
    http = Net::HTTP.new(uri.host, uri.port)
    http.use_ssl = uri.scheme == 'https'
    http.open_timeout = 30
    http.read_timeout = timeout
    http.write_timeout = timeout if http.respond_to?(:write_timeout=)
    request = Net::HTTP::Post.new(uri.request_uri)
    request['Content-Type'] = 'application/x-tar'
    request['User-Agent'] = 'bbbfleet-post-publish'
    request.content_length = size
    File.open(file, 'rb') do |io|
      request.body_stream = io
      response = http.request(request)
      return [response.code.to_i, response.body.to_s]
    end
  end

  def answer_field(body, tag)
    body[%r{<#{tag}>([^<]*)</#{tag}>}, 1]
  end

  def run(argv, env = ENV)
    options = {}
    OptionParser.new do |opts|
      opts.banner = 'Usage: bbbfleet-post-publish.rb -m <recordID> [-f <format>]'
      opts.on('-m', '--meeting-id ID', 'record ID (required)') { |v| options[:record_id] = v }
      opts.on('-f', '--format FORMAT', 'playback format just published') { |v| options[:format] = v }
    end.parse!(argv)

    config = load_config(env)
    logger = open_logger(config['log_file'])
    record_id = options[:record_id].to_s
    unless RECORD_ID.match?(record_id)
      logger.error("not a record ID: #{record_id.inspect}")
      return 1
    end
    if config['gateway_url'].to_s.empty?
      logger.info("#{record_id}: no gateway_url configured, nothing to push")
      return 0
    end
    secret = config['secret'] || read_secret(config['properties_files'])
    if secret.nil?
      logger.error("no securitySalt in #{Array(config['properties_files']).join(', ')}")
      return 1
    end
    push(record_id, config, secret, logger)
  rescue StandardError => e
    (logger || Logger.new($stderr)).error("#{e.class}: #{e.message}")
    1
  end

  def push(record_id, config, secret, logger)
    published_dir = config['published_dir']
    dirs = format_dirs(published_dir, record_id)
    Tempfile.create(['bbbfleet-', '.tar']) do |tmp|
      tmp.close
      if dirs.empty?
        logger.warn("#{record_id}: nothing under #{published_dir}/*/#{record_id}: index only")
        File.binwrite(tmp.path, '')
      else
        build_archive(published_dir, dirs, tmp.path)
      end
      size = File.size(tmp.path)
      sha256 = size.zero? ? nil : Digest::SHA256.file(tmp.path).hexdigest
      query = signed_query(config['server_name'], record_id, size, sha256, secret)
      uri = push_uri(config['gateway_url'], query)
      status, body = deliver(uri, tmp.path, size, config, logger)
      return 1 if status.nil?

      handle_answer(record_id, dirs, sha256, status, body, config, logger)
    end
  end

  def deliver(uri, file, size, config, logger)
    delay = config['retry_seconds']
    config['attempts'].times do |attempt|
      begin
        status, body = post(uri, file, size, config['timeout_seconds'])
        return [status, body] if status < 500

        logger.warn("attempt #{attempt + 1}: gateway answered HTTP #{status}")
      rescue StandardError => e
        logger.warn("attempt #{attempt + 1}: #{e.class}: #{e.message}")
      end
      if attempt + 1 < config['attempts']
        sleep(delay)
        delay *= 2
      end
    end
    logger.error("giving up after #{config['attempts']} attempts")
    nil
  end

  def handle_answer(record_id, dirs, sha256, status, body, config, logger)
    returncode = answer_field(body, 'returncode')
    unless status == 200 && returncode == 'SUCCESS'
      key = answer_field(body, 'messageKey')
      logger.error("#{record_id}: push refused (HTTP #{status}, #{key || returncode.inspect})")
      return 1
    end
    imported = answer_field(body, 'imported') == 'true'
    confirmed = imported && !sha256.nil? && answer_field(body, 'sha256') == sha256
    logger.info("#{record_id}: pushed #{sha256 || 'index only'}, imported=#{imported}")
    if config['delete_after_import'] && confirmed
      dirs.each { |dir| FileUtils.rm_rf(dir) }
      logger.info("#{record_id}: imported and verified, local copy deleted")
    end
    0
  end

  def open_logger(path)
    logger = Logger.new(path, 'weekly')
    logger.level = Logger::INFO
    logger
  rescue StandardError
    Logger.new($stderr)
  end
end

exit(BbbfleetPostPublish.run(ARGV)) if $PROGRAM_NAME == __FILE__
