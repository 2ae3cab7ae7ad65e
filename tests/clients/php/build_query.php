<?php
// Signed BBB query strings built the way bigbluebutton-api-php builds them (see ../encoders.py):
//   php-2.2  BaseParameters::buildHTTPQuery up to 2.2: http_build_query(array_filter($array))
//   php-3.0  BaseParameters::buildHTTPQuery since 2.3: RFC 3986 encoding, then %20 -> '+'
//   both     UrlBuilder::buildQs: $params . '&checksum=' . hash($algorithm, $method . $params . $secret)
// stdin: JSON list of {"flavour", "call", "params": [[name, value], ...], "secret", "algorithm"}
// stdout: JSON list of query strings (what follows '?' in the URL).

function build_http_query(string $flavour, array $array): string
{
    if ($flavour === 'php-2.2') {
        return http_build_query(array_filter($array));
    }
    return str_replace(
        ['%20', '!', "'", '(', ')', '*'],
        ['+', '%21', '%27', '%28', '%29', '%2A'],
        http_build_query(array_filter($array, fn ($value) => null !== $value), '', '&', PHP_QUERY_RFC3986)
    );
}

$requests = json_decode(stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
$queries = [];
foreach ($requests as $request) {
    $array = [];
    foreach ($request['params'] as [$name, $value]) {
        $array[$name] = $value;
    }
    $params = build_http_query($request['flavour'], $array);
    $checksum = hash($request['algorithm'], $request['call'] . $params . $request['secret']);
    $queries[] = $params . '&checksum=' . $checksum;
}
echo json_encode($queries, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR), "\n";
