# Signed BBB query strings built the way bigbluebutton-api-ruby's BigBlueButtonApi#get_url builds
# them (see ../encoders.py):
#   ruby-1.6  up to 1.6: "#{k}=" + CGI::escape(v.to_s)
#   ruby-1.9  since 1.7: "#{k}=" + URI.encode_www_form_component(v.to_s)
#   both      nil values dropped, keys sorted, joined by '&';
#             checksum = SHA1 (or SHA256 with the sha256 flag) of method + params_string + secret;
#             "#{params_string}&" (unless empty) + "checksum=#{checksum}"
# stdin: JSON list of {"flavour", "call", "params": [[name, value], ...], "secret", "algorithm"}
# stdout: JSON list of query strings (what follows '?' in the URL).
require 'cgi'
require 'digest'
require 'json'
require 'uri'

queries = JSON.parse($stdin.read).map do |request|
  params = request['params'].each_with_object({}) { |(k, v), memo| memo[k.to_sym] = v }
  params.delete_if { |_k, v| v.nil? }
  params = Hash[params.sort]
  escape = if request['flavour'] == 'ruby-1.6'
             ->(v) { CGI.escape(v) }
           else
             ->(v) { URI.encode_www_form_component(v) }
           end
  params_string = params.map { |k, v| "#{k}=" + escape.call(v.to_s) }.join('&')
  checksum_param = request['call'] + params_string + request['secret']
  checksum = if request['algorithm'] == 'sha256'
               Digest::SHA256.hexdigest(checksum_param)
             else
               Digest::SHA1.hexdigest(checksum_param)
             end
  url = ''
  url += "#{params_string}&" unless params_string.empty?
  url + "checksum=#{checksum}"
end
puts JSON.generate(queries)
