<?php
// A note board kept in the database Paasmaker provisions: DATABASE_URL is
// sqlite:///path/to/file.sqlite (the sqlite service) or mysql://user:pass@host:port/name.

declare(strict_types=1);

// As the built-in server's router script, every request comes here: other files that exist are served as they are.
$file = __DIR__ . parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if (PHP_SAPI === 'cli-server' && is_file($file) && !str_ends_with($file, '.php')) {
    return false;
}

function connect(): PDO
{
    $url = getenv('DATABASE_URL') ?: 'sqlite://' . __DIR__ . '/../notes.sqlite';
    if (str_starts_with($url, 'sqlite://')) {
        $pdo = new PDO('sqlite:' . substr($url, strlen('sqlite://')));
        $pdo->exec('CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, created TEXT NOT NULL)');
    } else {
        $parts = parse_url($url);
        if ($parts === false || !in_array($parts['scheme'] ?? '', ['mysql', 'mariadb'], true)) {
            throw new RuntimeException('DATABASE_URL must be sqlite:// or mysql://');
        }
        $dsn = sprintf('mysql:host=%s;port=%d;dbname=%s;charset=utf8mb4', $parts['host'], $parts['port'] ?? 3306, ltrim($parts['path'] ?? '', '/'));
        $pdo = new PDO($dsn, urldecode($parts['user'] ?? ''), urldecode($parts['pass'] ?? ''));
        $pdo->exec('CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY AUTO_INCREMENT, body TEXT NOT NULL, created VARCHAR(32) NOT NULL)');
    }
    $pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
    return $pdo;
}

function json(int $status, mixed $value): void
{
    http_response_code($status);
    header('Content-Type: application/json');
    echo json_encode($value), "\n";
}

function notes(PDO $pdo): array
{
    $rows = $pdo->query('SELECT id, body, created FROM notes ORDER BY id DESC')->fetchAll(PDO::FETCH_ASSOC);
    return array_map(fn ($row) => ['id' => (int) $row['id'], 'body' => $row['body'], 'created' => $row['created']], $rows);
}

$method = $_SERVER['REQUEST_METHOD'];
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);

if ($path === '/health') {
    json(200, ['ok' => true, 'pid' => getmypid()]);
    return;
}

$pdo = connect();

if ($method === 'POST' && $path === '/notes') {
    $isJson = str_contains($_SERVER['CONTENT_TYPE'] ?? '', 'application/json');
    $body = $isJson ? (json_decode(file_get_contents('php://input'), true)['body'] ?? '') : ($_POST['body'] ?? '');
    $body = trim(is_string($body) ? $body : '');
    if ($body === '') {
        json(400, ['error' => 'a note needs a body']);
        return;
    }
    $created = gmdate('Y-m-d\TH:i:s\Z');
    $pdo->prepare('INSERT INTO notes (body, created) VALUES (?, ?)')->execute([$body, $created]);
    if ($isJson) {
        json(201, ['id' => (int) $pdo->lastInsertId(), 'body' => $body, 'created' => $created]);
    } else {
        header('Location: /', true, 303);
    }
    return;
}

if ($method === 'GET' && $path === '/notes.json') {
    json(200, notes($pdo));
    return;
}

if ($method === 'GET' && $path === '/') {
    header('Content-Type: text/html; charset=utf-8');
    echo "<!doctype html>\n<title>Notes</title>\n<h1>Notes</h1>\n";
    echo "<form method=post action=/notes><input name=body autofocus> <button>Add</button></form>\n<ul>\n";
    foreach (notes($pdo) as $note) {
        echo '<li>', htmlspecialchars($note['body']), ' <small>', htmlspecialchars($note['created']), "</small></li>\n";
    }
    echo "</ul>\n<p><small>PHP ", PHP_VERSION, ", process ", getmypid(), "</small></p>\n";
    return;
}

json(404, ['error' => "no route for $method $path"]);
